"""Behind a real server: a stream's headers go out before its first chunk, and a worker
whose lifespan holds a task group stops without an error.

Both were wrong on Granian's RSGI interface only: the ASGI adapter kept a response's
start until its first body chunk (a server-sent event stream that is quiet at first
sent nothing at all), and the lifespan was entered and left in two different tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import time
from collections.abc import AsyncIterator
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from tests import live

from trivium import App
from trivium.responses import StreamingResponse

pytestmark = pytest.mark.live


@contextlib.asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
    # A task group held over the app's life, as the MCP SDK's session manager does.
    async with anyio.create_task_group() as group:
        group.start_soon(anyio.sleep_forever)
        yield {}
        group.cancel_scope.cancel()
    print("lifespan stopped cleanly", flush=True)


app = App(lifespan=lifespan)


@app.get("/ready")
async def ready() -> str:
    return "ok"


@app.get("/quiet-stream")
async def quiet_stream() -> StreamingResponse:
    async def events() -> AsyncIterator[bytes]:
        await asyncio.sleep(3)  # nothing to say at first
        yield b"data: late\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@app.get("/failing-stream")
async def failing_stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first\n"
        await asyncio.sleep(0.1)
        raise RuntimeError("the source broke")

    return StreamingResponse(chunks(), media_type="text/plain")


@pytest.fixture(params=["rsgi", "asgi"])
def server(request: pytest.FixtureRequest) -> Iterator[live.Server]:
    with live.trivium_run(
        f"{__name__}:app", "--interface", request.param, ready_path="/ready", timeout=20
    ) as running:
        yield running


def test_a_quiet_streams_headers_arrive_before_its_first_chunk(
    server: live.Server, request: pytest.FixtureRequest
) -> None:
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    request.addfinalizer(connection.close)
    started = time.monotonic()
    connection.request("GET", "/quiet-stream")
    response = connection.getresponse()  # returns once the status line and headers are in
    waited = time.monotonic() - started
    assert response.status == 200
    assert response.getheader("content-type", "").startswith("text/event-stream")
    assert waited < 2, f"headers took {waited:.1f} s: they waited for the first chunk"
    assert response.read() == b"data: late\n\n"


def test_a_stream_that_fails_ends_at_once(
    server: live.Server, request: pytest.FixtureRequest
) -> None:
    # On RSGI the body used to stay open until the cyclic collector freed the stream
    # (the exception's traceback held it): the client hung.
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    request.addfinalizer(connection.close)
    started = time.monotonic()
    connection.request("GET", "/failing-stream")
    response = connection.getresponse()
    assert response.status == 200  # the headers went out with the first chunk
    try:
        body = response.read()
    except http.client.IncompleteRead as cut:  # ASGI servers cut the connection
        body = cut.partial
    assert body == b"first\n"
    assert time.monotonic() - started < 3


def test_a_lifespan_holding_a_task_group_stops_cleanly(tmp_path: Path) -> None:
    with live.trivium_run(
        f"{__name__}:app", ready_path="/ready", timeout=20, log_dir=tmp_path
    ) as running:
        pass  # started (Granian RSGI, the default), then stopped by the context
    output = running.output()
    assert "Traceback" not in output, output
    assert "lifespan stopped cleanly" in output, output
