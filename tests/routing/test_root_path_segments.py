"""A `root_path` prefix is cut from the path only as whole segments (`/a` is no prefix of `/about`)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask import jsonify

from trivium import App
from trivium import Request
from trivium.csrf import CSRF
from trivium.interop import Legacy
from trivium.sessions import Sessions
from trivium.staticfiles import StaticFiles
from trivium.stores import MemoryStore
from trivium.testing import TestClient

pytestmark = pytest.mark.asgi_only("RSGI has no root_path")


def test_routes_whose_path_starts_with_the_prefixs_letters_are_found() -> None:
    app = App(root_path="/a")

    @app.get("/about")
    async def about() -> dict[str, str]:
        return {"page": "about"}

    @app.get("/")
    async def home() -> dict[str, str]:
        return {"page": "home"}

    client = TestClient(app)
    assert client.get("/about").json() == {"page": "about"}  # the server left /a out
    assert client.get("/a/about").json() == {"page": "about"}  # the server kept it
    assert client.get("/a").json() == {"page": "home"}
    assert client.get("/abc").status_code == 404


def test_a_mounted_legacy_app_gets_the_whole_path_info() -> None:
    legacy = Flask(__name__)

    @legacy.route("/", defaults={"rest": ""})
    @legacy.route("/<path:rest>")
    def anything(rest: str) -> Any:
        from flask import request

        environ = request.environ
        return jsonify(script=environ["SCRIPT_NAME"], path_info=environ["PATH_INFO"])

    app = App(plugins=[Legacy(legacy)], root_path="/a")
    with TestClient(app) as client:
        for path in ("/about", "/abc", "/x/y"):
            assert client.get(path).json() == {"script": "/a", "path_info": path}


def test_a_static_file_whose_name_starts_with_the_prefixs_letters(tmp_path: Any) -> None:
    (tmp_path / "site.css").write_text("body{}")
    app = App(root_path="/s")
    app.mount("/", StaticFiles(directory=tmp_path), name="static")
    response = TestClient(app).get("/site.css")
    assert (response.status_code, response.text) == (200, "body{}")


def test_csrf_exempt_paths_match_whole_segments_under_the_prefix() -> None:
    app = App(
        root_path="/h",
        plugins=[
            Sessions(secret_key="k" * 48, store=MemoryStore()),
            CSRF(exempt_paths=["/hooks/"]),
        ],
    )

    @app.get("/start")
    async def start(request: Request) -> dict[str, bool]:
        request.session["seen"] = True
        return {"ok": True}

    @app.post("/hooks/in")
    async def hook(request: Request) -> dict[str, bool]:
        return {"ok": "seen" in request.session}

    @app.post("/other")
    async def other(request: Request) -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        client.get("/start")
        assert client.post("/hooks/in").json() == {"ok": True}  # the server left /h out
        assert client.post("/h/hooks/in").json() == {"ok": True}  # the server kept it
        assert client.post("/other").status_code == 403
