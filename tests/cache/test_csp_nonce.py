"""A page holding the request's CSP nonce is never kept for later visitors."""

from __future__ import annotations

import re

from trivium import App
from trivium import Request
from trivium.cache import Cache
from trivium.middleware import Middleware
from trivium.middleware import SecurityHeadersMiddleware
from trivium.responses import HTMLResponse
from trivium.testing import TestClient

CSP = {"default-src": "self", "script-src": "self"}


def make_app() -> App:
    app = App(plugins=[Cache(None)], middleware=[Middleware(SecurityHeadersMiddleware, csp=CSP)])

    @app.get("/scripted", cache=60)
    async def scripted(request: Request) -> HTMLResponse:
        return HTMLResponse(f'<script nonce="{request.state.csp_nonce}">go()</script>')

    @app.get("/plain", cache=60)
    async def plain(request: Request) -> HTMLResponse:
        return HTMLResponse("<p>no inline script</p>")

    return app


def nonces(response: object) -> tuple[str, str]:
    header = re.search(r"nonce-([\w-]+)", response.headers["content-security-policy"])  # type: ignore[attr-defined]
    body = re.search(r'nonce="([\w-]+)"', response.text)  # type: ignore[attr-defined]
    assert header is not None
    assert body is not None
    return header.group(1), body.group(1)


def test_every_visitor_gets_a_page_with_its_own_nonce() -> None:
    with TestClient(make_app()) as client:
        first = client.get("/scripted")
        second = client.get("/scripted")
    assert first.headers["cache-control"] == "private"
    header, body = nonces(second)
    assert header == body
    assert nonces(first)[1] != body
    assert "age" not in second.headers


def test_a_page_without_the_nonce_is_still_kept() -> None:
    with TestClient(make_app()) as client:
        client.get("/plain")
        again = client.get("/plain")
    assert again.headers["cache-control"].startswith("public")
    assert "age" in again.headers
