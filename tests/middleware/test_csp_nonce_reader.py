"""`trivium.middleware.csp_nonce`: the request's nonce for HTML built outside templates."""

from __future__ import annotations

import re

from trivium import App
from trivium import Request
from trivium.middleware import SecurityHeadersMiddleware
from trivium.middleware import csp_nonce
from trivium.responses import HTMLResponse
from trivium.testing import TestClient


def _app(csp: dict[str, str] | None) -> App:
    app = App()
    if csp:
        app.add_middleware(SecurityHeadersMiddleware, csp=csp)

    @app.get("/widget")
    async def widget(request: Request) -> HTMLResponse:
        return HTMLResponse(f'<script nonce="{csp_nonce(request.scope)}">start()</script>')

    return app


def test_the_page_carries_the_nonce_its_header_names() -> None:
    with TestClient(_app({"default-src": "self", "script-src": "self"})) as client:
        first, second = client.get("/widget"), client.get("/widget")
    nonces = []
    for response in (first, second):
        header = response.headers["content-security-policy"]
        (nonce,) = re.findall(r"'nonce-([^']+)'", header.split("script-src", 1)[1].split(";")[0])
        assert f'<script nonce="{nonce}">' in response.text
        nonces.append(nonce)
    assert nonces[0] != nonces[1]  # one per request


def test_no_policy_means_an_empty_nonce() -> None:
    with TestClient(_app(None)) as client:
        assert client.get("/widget").text == '<script nonce="">start()</script>'
    assert csp_nonce({"type": "http"}) == ""
    assert csp_nonce({"type": "http", "state": {"csp_nonce": 5}}) == ""
