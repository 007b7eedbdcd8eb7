"""Streamed bodies: a sync generator failing before its first chunk, a server shutting down.

A sync iterator's first step runs in a worker thread; that is not the body waiting for
data, so the status and headers wait for it and a failure there is answered like a
handler's error, as for an async generator that fails before it awaits.

`stop_streams()` (what the server glue calls when the server is told to stop) ends the
streams being served, so an endless one does not hold the server until it kills its
workers: an event stream ends cleanly, another stream is cut.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator

import anyio
import pytest

from trivium import App
from trivium import HTTPException
from trivium.http._streaming import stop_streams
from trivium.responses import EventSourceResponse
from trivium.responses import StreamingResponse
from trivium.testing import TestClient
from trivium.types import Message


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _refuse(error: Exception) -> Iterator[bytes]:
    """Raise `error` before the first chunk."""
    raise error
    yield b"never"  # pragma: no cover - makes this a generator


def _app() -> App:
    app = App()

    @app.get("/broken")
    async def broken() -> StreamingResponse:
        return StreamingResponse(_refuse(RuntimeError("the sync producer failed")))

    @app.get("/lines")
    def lines(n: int = 0) -> Iterator[str]:
        if n < 1:
            raise HTTPException(404, "no such line")
        yield "line"

    @app.get("/chunks")
    async def chunks() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b"]), media_type="text/plain")

    @app.get("/empty")
    async def empty() -> StreamingResponse:
        return StreamingResponse(iter([]), media_type="text/plain")

    return app


def test_sync_generator_error_before_the_first_chunk_is_a_500() -> None:
    response = TestClient(_app(), raise_server_exceptions=False).get("/broken")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_sync_generator_error_before_the_first_chunk_reaches_the_server() -> None:
    with pytest.raises(RuntimeError, match="the sync producer failed"):
        TestClient(_app()).get("/broken")


def test_sync_generator_handler_http_exception_keeps_its_status() -> None:
    response = TestClient(_app()).get("/lines")
    assert response.status_code == 404
    assert response.json() == {"detail": "no such line"}


def test_sync_iterator_chunks_are_streamed() -> None:
    response = TestClient(_app()).get("/chunks")
    assert response.status_code == 200
    assert response.content == b"ab"


def test_empty_sync_iterator_is_an_empty_success() -> None:
    response = TestClient(_app()).get("/empty")
    assert response.status_code == 200
    assert response.content == b""


class Endless:
    """A generator that never ends, and the messages its response sent."""

    def __init__(self) -> None:
        self.closed = False
        self.messages: list[Message] = []
        self.first = anyio.Event()

    async def ticks(self) -> AsyncIterator[str]:
        try:
            while True:
                yield "tick\n"
                await anyio.sleep(0.01)
        finally:
            self.closed = True

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            self.first.set()

    async def serve(self, response: StreamingResponse) -> None:
        scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}

        async def receive() -> Message:
            await anyio.sleep_forever()
            raise AssertionError  # pragma: no cover

        with anyio.fail_after(10):  # a guard against hanging, not a measurement
            async with anyio.create_task_group() as group:
                group.start_soon(response, scope, receive, self.send)
                await self.first.wait()
                stop_streams()


@pytest.mark.anyio
async def test_stopping_the_server_ends_an_endless_event_stream_cleanly() -> None:
    endless = Endless()
    await endless.serve(EventSourceResponse(endless.ticks(), ping=None))
    assert endless.closed  # the generator's finally ran
    assert endless.messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.anyio
async def test_stopping_the_server_cuts_an_endless_stream() -> None:
    endless = Endless()
    await endless.serve(StreamingResponse(endless.ticks(), media_type="text/plain"))
    assert endless.closed
    assert endless.messages[-1]["more_body"] is True  # cut: no end that says "complete"
