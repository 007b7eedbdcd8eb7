"""A small real Flask app used by the interop tests (forms, uploads, sessions, CSRF)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask import Response
from flask import redirect
from flask import request
from flask import session
from flask import stream_with_context
from flask import url_for
from flask_wtf.csrf import CSRFProtect
from flask_wtf.csrf import generate_csrf

SECRET = "flask-secret-for-tests"


def create_app(csrf: bool = False) -> Flask:  # noqa: C901 - one view per behaviour tested
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, WTF_CSRF_ENABLED=csrf, WTF_CSRF_SSL_STRICT=False)
    CSRFProtect(app)

    @app.get("/hello")
    def hello() -> dict[str, Any]:
        return {
            "hello": request.args.get("name", "world"),
            "script_name": request.environ["SCRIPT_NAME"],
            "path_info": request.environ["PATH_INFO"],
            "self": url_for("hello", _external=False),
            "external": url_for("hello", _external=True),
        }

    @app.get("/peer")
    def peer() -> dict[str, Any]:
        return {
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "external": url_for("peer", _external=True),
        }

    @app.post("/form")
    def form() -> dict[str, Any]:
        return {"name": request.form["name"], "tags": request.form.getlist("tag")}

    @app.post("/upload")
    def upload() -> dict[str, Any]:
        file = request.files["file"]
        size = 0
        while chunk := file.stream.read(65536):
            size += len(chunk)
        return {"filename": file.filename, "size": size, "note": request.form.get("note")}

    @app.post("/echo-stream")
    def echo_stream() -> dict[str, Any]:
        # Reads wsgi.input in pieces, as a streaming consumer would.
        stream = request.stream
        pieces = 0
        total = 0
        while chunk := stream.read(8192):
            pieces += 1
            total += len(chunk)
        return {"bytes": total, "pieces": pieces}

    @app.get("/download/<int:count>")
    def download(count: int) -> Response:
        def rows() -> Iterator[str]:
            for n in range(count):
                yield f"row {n}\n"

        return Response(stream_with_context(rows()), mimetype="text/plain")

    @app.get("/go")
    def go() -> Response:
        return redirect(url_for("hello", name="redirected"))

    @app.post("/login")
    def login() -> dict[str, Any]:
        session["user"] = request.form["user"]
        return {"ok": True}

    @app.get("/whoami")
    def whoami() -> dict[str, Any]:
        return {"user": session.get("user")}

    @app.get("/cookies")
    def cookies() -> dict[str, Any]:
        return {"cookies": request.cookies.to_dict(), "header": request.headers.get("cookie")}

    @app.get("/csrf-token")
    def csrf_token() -> dict[str, str]:
        return {"token": generate_csrf()}

    @app.get("/docs")
    def docs() -> dict[str, str]:  # a path trivium also serves (its API docs)
        return {"docs": "flask"}

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("legacy failure")

    @app.get("/orders/<int:order_id>")
    def order(order_id: int) -> dict[str, Any]:
        return {"id": order_id, "source": "flask"}

    @app.delete("/orders/<int:order_id>")
    def delete_order(order_id: int) -> tuple[str, int]:
        return "", 204

    return app
