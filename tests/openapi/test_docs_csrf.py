"""Swagger UI's "Try it out" sends the CSRF token on requests a session cookie authenticates."""

from __future__ import annotations

import json
import re
from typing import Any

from trivium import App
from trivium import Request
from trivium.csrf import CSRF
from trivium.sessions import Sessions
from trivium.testing import TestClient

KEY = "a-session-key-for-the-docs-csrf-tests-0123456789"


def make_app(**csrf_options: Any) -> App:
    app = App(title="Shop", plugins=[Sessions(secret_key=KEY), CSRF(**csrf_options)])

    @app.get("/login")
    async def login(request: Request) -> dict[str, bool]:
        request.session["user"] = 1
        return {"ok": True}

    @app.post("/items")
    async def create(request: Request) -> dict[str, Any]:
        return {"user": request.session.get("user")}

    return app


def swagger_config(page: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="trivium-swagger-config" type="application/json">(.*?)</script>', page
    )
    assert match is not None
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_the_init_script_adds_a_csrf_request_interceptor() -> None:
    script = TestClient(make_app()).get("/docs/static/trivium-swagger-init.js").text
    assert "options.requestInterceptor = csrfInterceptor(config.csrf)" in script
    assert "fetch(csrf.tokenUrl" in script
    assert "headers[csrf.header] = data.csrf_token" in script
    assert '"authorization"' in script  # requests with their own credentials are left alone
    assert "persistAuthorization" not in script  # the options still come from the page


def test_the_docs_page_names_the_csrf_header_and_token_url() -> None:
    config = swagger_config(TestClient(make_app()).get("/docs").text)
    assert config["csrf"] == {"header": "x-csrf-token", "tokenUrl": "/docs/csrf"}
    assert config["options"]["persistAuthorization"] is True


def test_the_csrf_header_follows_the_apps_configuration() -> None:
    config = swagger_config(TestClient(make_app(header_name="X-My-Token")).get("/docs").text)
    assert config["csrf"]["header"] == "x-my-token"


def test_a_logged_in_try_it_out_post_succeeds_with_the_docs_token() -> None:
    client = TestClient(make_app())
    client.get("/login")
    assert client.post("/items").status_code == 403  # what Swagger UI used to get
    config = swagger_config(client.get("/docs").text)["csrf"]
    token = client.get(config["tokenUrl"])
    assert token.headers["cache-control"] == "no-store"
    answer = client.post("/items", headers={config["header"]: token.json()["csrf_token"]})
    assert answer.status_code == 200
    assert answer.json() == {"user": 1}


def test_without_csrf_the_docs_add_no_token_route_or_config() -> None:
    app = App(title="Shop")
    client = TestClient(app)
    assert "csrf" not in swagger_config(client.get("/docs").text)
    assert client.get("/docs/csrf").status_code == 404
