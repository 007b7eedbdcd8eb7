"""TrustedHostMiddleware: allowed names, wildcard subdomains, www redirect, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from tests.refusals import refused_with

from trivium import App
from trivium import WebSocket
from trivium.errors import ConfigurationError
from trivium.middleware import Middleware
from trivium.middleware import TrustedHostMiddleware
from trivium.middleware._hosts import host_name
from trivium.testing import TestClient
from trivium.testing import WebSocketRejected


def make_client(base_url: str = "http://example.com", **options: Any) -> TestClient:
    options.setdefault("allowed_hosts", ["example.com", "*.example.com"])
    app = App(middleware=[Middleware(TrustedHostMiddleware, **options)], openapi_url=None)

    @app.get("/page")
    async def page() -> str:
        return "ok"

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    return TestClient(app, base_url=base_url, follow_redirects=False)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://example.com",
        "http://EXAMPLE.com:8000",
        "http://api.example.com",
        "http://a.b.example.com",
        "http://example.com.",
    ],
)
def test_allowed_hosts_are_served(base_url: str) -> None:
    assert make_client(base_url).get("/page").status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.com", "example.com.evil.com", "notexample.com", "", "example.com@evil.com"]
)
def test_other_hosts_get_400_json(host: str) -> None:
    response = make_client().get("/page", headers={"host": host})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"].startswith("Invalid Host header: ")


def test_ip_literals_can_be_allowed() -> None:
    client = make_client("http://127.0.0.1:8000", allowed_hosts=["127.0.0.1", "[::1]"])
    assert client.get("/page").status_code == 200
    assert client.get("/page", headers={"host": "[::1]:8000"}).status_code == 200
    assert client.get("/page", headers={"host": "10.0.0.1"}).status_code == 400


def test_star_allows_every_host() -> None:
    client = make_client(allowed_hosts=["*"])
    assert client.get("/page", headers={"host": "anything.test"}).status_code == 200


def test_apex_redirects_to_allowed_www_host() -> None:
    client = make_client("https://shop.test:8443", allowed_hosts=["www.shop.test"])
    response = client.get("/page?q=1")
    assert response.status_code == 308
    assert response.headers["location"] == "https://www.shop.test:8443/page?q=1"


def test_www_redirect_can_be_turned_off() -> None:
    client = make_client("https://shop.test", allowed_hosts=["www.shop.test"], www_redirect=False)
    assert client.get("/page").status_code == 400


def test_websocket_to_other_host_is_closed() -> None:
    client = make_client("http://evil.com")
    with pytest.raises(WebSocketRejected) as info:
        with client.websocket_connect("/ws"):
            pass
    assert refused_with(info.value, 1008)
    with make_client().websocket_connect("/ws"):
        pass


@pytest.mark.parametrize(
    "hosts",
    [[], "example.com", ["https://example.com"], ["example.com/path"], ["exa*mple.com"]],
)
def test_invalid_patterns_are_refused(hosts: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        TrustedHostMiddleware(make_client().app, allowed_hosts=hosts)
    assert info.value.code == "trusted-host-pattern"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Example.COM:80", "example.com"),
        ("[::1]:8000", "[::1]"),
        ("[::1]", "[::1]"),
        ("example.com.", "example.com"),
        (" host ", "host"),
    ],
)
def test_host_name_normalisation(value: str, expected: str) -> None:
    assert host_name(value) == expected
