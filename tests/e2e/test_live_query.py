"""A query string sent as raw UTF-8 (not percent-encoded) behind a real server.

Browsers encode the query, but curl, bots and some clients send it raw. Granian's RSGI
interface hands it over decoded as UTF-8; trivium turned it back into bytes as latin-1,
so a character outside latin-1 answered 500 and one inside it reached the app as other
bytes, on every route that reads the request.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from tests import live

from trivium import App
from trivium import Request

pytestmark = pytest.mark.live

app = App()


@app.get("/ready")
async def ready() -> str:
    return "ok"


@app.get("/echo")
async def echo(request: Request) -> dict[str, str]:
    return {"q": request.query_params.get("q", ""), "raw": request.scope["query_string"].hex()}


@app.get("/plain")
async def plain(q: str = "") -> dict[str, str]:
    return {"q": q}


@pytest.fixture(scope="module", params=["rsgi", "asgi"])
def server(request: pytest.FixtureRequest) -> Iterator[live.Server]:
    with live.trivium_run(
        f"{__name__}:app", "--interface", request.param, ready_path="/ready", timeout=20
    ) as running:
        yield running


def _get(server: live.Server, target: bytes) -> tuple[int, bytes]:
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize("text", ["日本", "été", "plain"])
def test_a_raw_utf8_query_reaches_the_app_as_sent(server: live.Server, text: str) -> None:
    import json

    raw = text.encode()
    status, body = _get(server, b"/echo?q=" + raw)
    assert status == 200, body
    assert json.loads(body) == {"q": text, "raw": (b"q=" + raw).hex()}
    status, body = _get(server, b"/plain?q=" + raw)
    assert status == 200, body
    assert json.loads(body) == {"q": text}
