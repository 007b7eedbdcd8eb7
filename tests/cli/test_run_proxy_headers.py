"""`trivium run` believes forwarded headers through `ProxyHeadersMiddleware` only.

Granian ignores `X-Forwarded-*`; uvicorn reads them itself unless told not to, which
would let any local client claim another address and scheme, and would hide the proxy's
address from trivium's middleware. Both servers must give the app the same view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from tests import live

APP = """
from trivium import App, Request
from trivium.middleware import Middleware, ProxyHeadersMiddleware

bare = App()
behind_proxy = App(
    middleware=[
        Middleware(ProxyHeadersMiddleware, trusted_proxies=["127.0.0.1"], forwarded_host=True)
    ]
)


@bare.get("/seen")
@behind_proxy.get("/seen")
async def seen(request: Request) -> dict[str, str]:
    return {
        "client": request.client.host,
        "scheme": request.url.scheme,
        "host": request.url.netloc,
    }
"""

FORWARDED = {
    "X-Forwarded-For": "6.6.6.6",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "example.com",
}
SERVERS = [("granian", "asgi"), ("granian", "rsgi"), ("uvicorn", "asgi")]


def _seen(tmp_path: Path, target: str, server: str, interface: str) -> dict[str, Any]:
    (tmp_path / "proxy_app.py").write_text(APP)
    args = ("--server", server, "--interface", interface)
    with live.trivium_run(
        f"proxy_app:{target}",
        *args,
        cwd=tmp_path,
        env=live.environment(tmp_path),
        ready_path="/seen",
        log_dir=tmp_path,
    ) as running:
        response = httpx.get(running.url + "/seen", headers=FORWARDED, timeout=5)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.live
@pytest.mark.parametrize(("server", "interface"), SERVERS)
def test_forwarded_headers_are_ignored_without_the_middleware(
    tmp_path: Path, server: str, interface: str
) -> None:
    seen = _seen(tmp_path, "bare", server, interface)
    assert (seen["client"], seen["scheme"]) == ("127.0.0.1", "http")
    assert seen["host"].startswith("127.0.0.1:")


@pytest.mark.live
@pytest.mark.parametrize(("server", "interface"), SERVERS)
def test_the_middleware_believes_the_trusted_proxy_on_every_server(
    tmp_path: Path, server: str, interface: str
) -> None:
    seen = _seen(tmp_path, "behind_proxy", server, interface)
    assert seen == {"client": "6.6.6.6", "scheme": "https", "host": "example.com"}
