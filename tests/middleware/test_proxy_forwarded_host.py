"""A forwarded host is opt-in, and a host the proxy middleware sets is always checked again.

`TrustedHostMiddleware` marks the scope (`TRUSTED_HOST_KEY`) once it checked the `Host`;
password-reset links are built from `request.base_url` only then. A forwarded host that
replaced the checked one must not keep that mark, whatever order the two run in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from tests import live
from tests.refusals import refused_with

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.errors import ConfigurationError
from trivium.middleware import TRUSTED_HOST_KEY
from trivium.middleware import Middleware
from trivium.middleware import ProxyHeadersMiddleware
from trivium.middleware import TrustedHostMiddleware
from trivium.testing import TestClient
from trivium.testing import WebSocketRejected

PROXY = ("127.0.0.1", 4000)
EVIL = {"x-forwarded-host": "evil.example", "x-forwarded-proto": "https"}


def make_client(*, hosts_outside: bool, hosts: Any = ("example.com",), **proxy: Any) -> TestClient:
    proxy.setdefault("trusted_proxies", ["127.0.0.1"])
    layers = [
        Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts)),
        Middleware(ProxyHeadersMiddleware, **proxy),
    ]
    app = App(middleware=layers if hosts_outside else layers[::-1], openapi_url=None)

    @app.get("/base")
    async def base(request: Request) -> dict[str, Any]:
        return {
            "base_url": str(request.base_url),
            "trusted": request.scope.get(TRUSTED_HOST_KEY) is True,
        }

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.headers["host"])
        await websocket.close()

    return TestClient(app, base_url="http://example.com", client=PROXY)


@pytest.mark.parametrize("hosts_outside", [True, False])
def test_x_forwarded_host_is_ignored_by_default(hosts_outside: bool) -> None:
    seen = make_client(hosts_outside=hosts_outside).get("/base", headers=EVIL).json()
    assert seen == {"base_url": "https://example.com/", "trusted": True}


def test_forwarded_header_host_is_ignored_by_default() -> None:
    client = make_client(hosts_outside=True, headers="forwarded")
    seen = client.get("/base", headers={"forwarded": "for=1.2.3.4;proto=https;host=evil.example"})
    assert seen.json() == {"base_url": "https://example.com/", "trusted": True}


@pytest.mark.parametrize("hosts_outside", [True, False])
def test_opted_in_forwarded_host_outside_the_allowed_names_is_refused(hosts_outside: bool) -> None:
    client = make_client(hosts_outside=hosts_outside, forwarded_host=True)
    response = client.get("/base", headers=EVIL)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid Host header: ")
    assert "evil.example" in response.json()["detail"]


@pytest.mark.parametrize("hosts_outside", [True, False])
def test_opted_in_allowed_forwarded_host_is_used_and_trusted(hosts_outside: bool) -> None:
    client = make_client(
        hosts_outside=hosts_outside, hosts=["example.com", "shop.example"], forwarded_host=True
    )
    response = client.get("/base", headers={"x-forwarded-host": "shop.example"})
    assert response.json() == {"base_url": "http://shop.example/", "trusted": True}


def test_opted_in_forwarded_header_host_is_checked_too() -> None:
    client = make_client(hosts_outside=True, headers="forwarded", forwarded_host=True)
    response = client.get("/base", headers={"forwarded": "host=evil.example"})
    assert response.status_code == 400
    response = client.get("/base", headers={"forwarded": "host=example.com:8443"})
    assert response.json() == {"base_url": "http://example.com:8443/", "trusted": True}


def test_forwarded_host_under_a_star_allow_list_is_used_but_never_trusted() -> None:
    client = make_client(hosts_outside=True, hosts=["*"], forwarded_host=True)
    seen = client.get("/base", headers=EVIL).json()
    assert seen == {"base_url": "https://evil.example/", "trusted": False}


def test_forwarded_host_without_a_trusted_host_check_is_not_trusted() -> None:
    app = App(
        middleware=[
            Middleware(ProxyHeadersMiddleware, trusted_proxies=["127.0.0.1"], forwarded_host=True)
        ],
        openapi_url=None,
    )

    @app.get("/base")
    async def base(request: Request) -> dict[str, Any]:
        return {"base_url": str(request.base_url), "trusted": TRUSTED_HOST_KEY in request.scope}

    seen = TestClient(app, client=PROXY).get("/base", headers=EVIL).json()
    assert seen == {"base_url": "https://evil.example/", "trusted": False}


def test_untrusted_peer_forwarded_host_changes_nothing() -> None:
    client = make_client(hosts_outside=True, forwarded_host=True)
    client = TestClient(client.app, base_url="http://example.com", client=("192.0.2.1", 1))
    assert client.get("/base", headers=EVIL).json() == {
        "base_url": "http://example.com/",
        "trusted": True,
    }


def test_websocket_forwarded_host_outside_the_allowed_names_is_closed() -> None:
    client = make_client(hosts_outside=True, forwarded_host=True)
    with pytest.raises(WebSocketRejected) as info:
        with client.websocket_connect("/ws", headers={"x-forwarded-host": "evil.example"}):
            pass
    assert refused_with(info.value, 1008)
    with client.websocket_connect("/ws", headers={"x-forwarded-host": "example.com"}) as session:
        assert session.receive_text() == "example.com"


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_forwarded_host_must_be_a_bool(value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        ProxyHeadersMiddleware(make_client(hosts_outside=True).app, forwarded_host=value)
    assert info.value.code == "proxy-option"


def test_unknown_option_is_still_an_error() -> None:
    with pytest.raises(TypeError, match="x_host"):
        ProxyHeadersMiddleware(make_client(hosts_outside=True).app, x_host=1)  # type: ignore[call-arg]


LIVE_APP = """
from trivium import App, Request
from trivium.middleware import (
    TRUSTED_HOST_KEY, Middleware, ProxyHeadersMiddleware, TrustedHostMiddleware,
)


def build(**proxy):
    app = App(
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "127.0.0.1"]),
            Middleware(ProxyHeadersMiddleware, trusted_proxies=["127.0.0.1"], **proxy),
        ]
    )

    @app.get("/base")
    async def base(request: Request) -> dict:
        return {
            "base_url": str(request.base_url),
            "trusted": request.scope.get(TRUSTED_HOST_KEY) is True,
        }

    return app


default = build()
opted_in = build(forwarded_host=True)
"""


def _live_get(tmp_path: Path, target: str) -> httpx.Response:
    (tmp_path / "host_app.py").write_text(LIVE_APP)
    with live.trivium_run(
        f"host_app:{target}",
        "--interface",
        "rsgi",
        cwd=tmp_path,
        env=live.environment(tmp_path),
        ready_path="/base",
        log_dir=tmp_path,
    ) as running:
        headers = {"host": "example.com", **EVIL}
        return httpx.get(running.url + "/base", headers=headers, timeout=5)


@pytest.mark.live
def test_live_rsgi_reset_base_ignores_a_client_x_forwarded_host(tmp_path: Path) -> None:
    response = _live_get(tmp_path, "default")
    assert response.json() == {"base_url": "https://example.com/", "trusted": True}


@pytest.mark.live
def test_live_rsgi_opted_in_forwarded_host_is_checked_again(tmp_path: Path) -> None:
    response = _live_get(tmp_path, "opted_in")
    assert response.status_code == 400
    assert "evil.example" in response.json()["detail"]
