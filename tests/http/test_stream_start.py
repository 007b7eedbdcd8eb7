"""When a streamed response's headers go out, and how a stream ends when the client leaves.

The status and headers wait for the first chunk, or for the body to wait for it: a body
that fails before either is answered like a handler's error (its own status for an
`HTTPException`, a 500 otherwise), on ASGI and RSGI alike. A client that is gone ends
the stream quietly, and a producer that never awaits is still stopped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest
from pydantic import BaseModel

from trivium import App
from trivium import HTTPException
from trivium.http._streaming import race
from trivium.responses import EventSourceResponse
from trivium.responses import StreamingResponse
from trivium.testing import TestClient
from trivium.types import Message


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Item(BaseModel):
    n: int


ITEMS: dict[int, Item] = {}
"""No items: every one asked for is missing."""


async def _failing(error: Exception | None) -> AsyncIterator[bytes]:
    """Raise `error` before the first chunk (with `None`, end without one)."""
    if error is not None:
        raise error
    chunks: list[bytes] = []
    for chunk in chunks:
        yield chunk


def _app() -> App:
    app = App()

    @app.get("/missing")
    async def missing(n: int = 1) -> AsyncIterator[Item]:
        item = ITEMS.get(n)
        if item is None:
            raise HTTPException(404, "no such item")
        yield item

    @app.get("/broken")
    async def broken() -> StreamingResponse:
        return StreamingResponse(_failing(RuntimeError("the producer failed")))

    @app.get("/empty")
    async def empty() -> StreamingResponse:
        return StreamingResponse(_failing(None), media_type="text/plain")

    @app.get("/quiet")
    async def quiet() -> EventSourceResponse:
        async def events() -> AsyncIterator[str]:
            await anyio.sleep(0.05)
            yield "late"

        return EventSourceResponse(events())

    return app


def test_http_exception_before_the_first_item_is_answered_with_its_status() -> None:
    response = TestClient(_app()).get("/missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "no such item"}


def test_error_before_the_first_chunk_is_a_500() -> None:
    client = TestClient(_app(), raise_server_exceptions=False)
    response = client.get("/broken")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_error_before_the_first_chunk_reaches_the_server() -> None:
    with pytest.raises(RuntimeError, match="the producer failed"):
        TestClient(_app()).get("/broken")


def test_a_stream_without_chunks_is_an_empty_success() -> None:
    response = TestClient(_app()).get("/empty")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content == b""


def test_headers_of_a_quiet_stream_go_out_before_its_first_event() -> None:
    with TestClient(_app()).stream("GET", "/quiet") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert b"data: late" in b"".join(response.iter_bytes())


class Peer:
    """An ASGI client whose `send` never suspends; it leaves after `leave_after` chunks.

    With `refuse`, a chunk sent once it left raises `ConnectionResetError` (what an ASGI
    server raises for a closed connection) and `receive` never tells of the disconnect;
    otherwise the chunk is dropped, as uvicorn does, and `receive` tells.
    """

    def __init__(self, leave_after: int, *, refuse: bool = False) -> None:
        self.leave_after = leave_after
        self.refuse = refuse
        self.chunks = 0
        self.messages: list[Message] = []
        self.gone = anyio.Event()
        self.requested = False

    async def receive(self) -> Message:
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        if self.refuse:
            await anyio.sleep_forever()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.gone.is_set():
            if self.refuse:
                raise ConnectionResetError("the client closed the connection")
            return
        self.messages.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            self.chunks += 1
            if self.chunks >= self.leave_after:
                self.gone.set()


class Producer:
    """A generator that never awaits: it yields `limit` chunks at most."""

    def __init__(self, limit: int = 5000) -> None:
        self.limit = limit
        self.produced = 0
        self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while self.produced < self.limit:
                self.produced += 1
                yield b"x" * 1024
        finally:
            self.closed = True


async def _serve(response: StreamingResponse, peer: Peer) -> None:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    with anyio.fail_after(5):
        await response(scope, peer.receive, peer.send)


@pytest.mark.anyio
async def test_a_producer_that_never_awaits_stops_when_the_client_leaves() -> None:
    producer, peer = Producer(), Peer(leave_after=3)
    await _serve(StreamingResponse(producer.chunks()), peer)
    assert producer.closed
    assert producer.produced < 50  # it yields to the loop every few chunks: not all 5000


@pytest.mark.anyio
async def test_a_send_refused_by_a_closed_connection_ends_the_stream_quietly() -> None:
    producer, peer = Producer(), Peer(leave_after=2, refuse=True)
    await _serve(StreamingResponse(producer.chunks()), peer)  # nothing raised
    assert producer.closed
    assert producer.produced <= 4
    assert peer.messages[-1]["type"] == "http.response.body"
    assert peer.messages[-1]["more_body"] is True  # no end sent to a client that is gone


@pytest.mark.anyio
async def test_a_closed_connection_during_a_keep_alive_ping_ends_the_stream_quietly() -> None:
    async def silent() -> AsyncIterator[str]:
        yield "first"
        await anyio.sleep_forever()

    peer = Peer(leave_after=1, refuse=True)
    await _serve(EventSourceResponse(silent(), ping=0.01), peer)
    assert peer.chunks == 1


@pytest.mark.anyio
async def test_race_raises_the_side_error_as_itself() -> None:
    async def forever() -> None:
        await anyio.sleep_forever()

    async def failing() -> None:
        await anyio.lowlevel.checkpoint()
        raise LookupError("side")

    with pytest.raises(LookupError, match="side"):
        await race(forever, failing)
