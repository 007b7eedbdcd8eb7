"""HTTP/2 behind a real server: the host comes from `:authority`, on both interfaces.

An HTTP/2 request has no `Host` header; the host is the `:authority` pseudo-header.
Granian's ASGI interface hands it over as `host`, its RSGI interface as
`scope.authority` only, so over RSGI the app saw no host at all: URLs were built from
the server's socket address and `TrustedHostMiddleware` refused every request to a
name. Browsers speak HTTP/2 to a server that serves TLS, so this is the common case
for `trivium run --ssl-certfile ...`.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests import live

from trivium import App
from trivium import Request
from trivium.middleware import Middleware
from trivium.middleware import TrustedHostMiddleware

pytestmark = pytest.mark.live


async def where(request: Request) -> dict[str, str | None]:
    return {
        "host": request.headers.get("host"),
        "url": str(request.url),
        "for": str(request.url_for("where")),
    }


app = App()  # no middleware: the direct RSGI path
app.get("/where", name="where")(where)

guarded = App(middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["localhost"])])
guarded.get("/where", name="where")(where)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return live.certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(params=["rsgi", "asgi"])
def interface(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _serve(target: str, interface: str, certificate: tuple[Path, Path]) -> Iterator[str]:
    cert, key = certificate
    args = ("--interface", interface, "--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    with live.trivium_run(
        f"{__name__}:{target}", *args, scheme="https", ready_path="/where", timeout=20
    ) as running:
        yield running.url.replace("127.0.0.1", "localhost")


def _client(certificate: tuple[Path, Path]) -> httpx.Client:
    verify = ssl.create_default_context(cafile=str(certificate[0]))
    return httpx.Client(http2=True, verify=verify, timeout=10)


def test_the_host_is_the_authority(interface: str, certificate: tuple[Path, Path]) -> None:
    for url in _serve("app", interface, certificate):
        with _client(certificate) as client:
            response = client.get(f"{url}/where")
        assert response.http_version == "HTTP/2"
        assert response.status_code == 200, response.text
        host = url.removeprefix("https://")
        assert response.json() == {
            "host": host,
            "url": f"{url}/where",
            "for": f"{url}/where",
        }


def test_allowed_hosts_see_the_authority(interface: str, certificate: tuple[Path, Path]) -> None:
    for url in _serve("guarded", interface, certificate):
        with _client(certificate) as client:
            allowed = client.get(f"{url}/where")
            refused = client.get(url.replace("localhost", "127.0.0.1") + "/where")
        assert allowed.http_version == "HTTP/2"
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["host"] == url.removeprefix("https://")
        assert refused.status_code == 400
        assert "is not served here" in refused.json()["detail"]
