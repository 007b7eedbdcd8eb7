"""A client leaving a streamed legacy response frees the legacy thread, on every server.

Granian's RSGI interface fails the next send to a gone client; uvicorn and Granian's
ASGI interface drop it without a word and report the client leaving only through
`receive()` (`http.disconnect`). The legacy pool here has two threads and the stream
never ends: once two clients left it, the pool still answers only if both were freed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests import live

from trivium import App
from trivium.interop import Legacy

pytestmark = pytest.mark.live


def forever(environ: dict[str, Any], start_response: Any) -> Iterator[bytes] | list[bytes]:
    start_response("200 OK", [("content-type", "text/plain")])
    if environ["PATH_INFO"] == "/ping":
        return [b"pong"]

    def ticks() -> Iterator[bytes]:
        while True:
            yield b"tick\n" * 200
            time.sleep(0.01)

    return ticks()


app = App(plugins=[Legacy(forever, workers=2)])


@app.get("/ready")
async def ready() -> str:
    return "ok"


SERVERS = {
    "granian-asgi": ("--interface", "asgi"),
    "granian-rsgi": ("--interface", "rsgi"),
    "uvicorn": ("--server", "uvicorn"),
}


@pytest.fixture(params=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[live.Server]:
    with live.trivium_run(
        "tests.interop.test_live_disconnect:app",
        *SERVERS[request.param],
        ready_path="/ready",
        timeout=20,
    ) as running:
        yield running


def leave_after_a_chunk(url: str) -> None:
    with httpx.Client(timeout=5) as client, client.stream("GET", url) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            assert chunk.startswith(b"tick")
            break  # leaving the block closes the connection mid-stream


def test_clients_leaving_an_endless_legacy_stream_free_its_threads(server: live.Server) -> None:
    leave_after_a_chunk(server.url + "/stream")
    leave_after_a_chunk(server.url + "/stream")
    response = httpx.get(server.url + "/ping", timeout=5)  # needs a free legacy thread
    assert response.text == "pong", server.output()
