"""StreamingResponse: sync and async bodies, HEAD, disconnects, errors."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator

import anyio
import httpx
import pytest

from trivium.background import BackgroundTask
from trivium.http._response import Response
from trivium.http._streaming import StreamingResponse
from trivium.http._streaming import race
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

pytestmark = pytest.mark.drives_no_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def serve(make: Callable[[], Response]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await make()(scope, receive, send)

    return app


def client(make: Callable[[], Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=serve(make)), base_url="http://t")


def http_scope(method: str = "GET") -> Scope:
    return {"type": "http", "method": method, "path": "/", "headers": [], "query_string": b""}


class Peer:
    """A hand-driven ASGI client that hangs up after `hang_up_after` body chunks."""

    def __init__(self, hang_up_after: int | None = None) -> None:
        self.messages: list[Message] = []
        self.hang_up_after = hang_up_after
        self.gone = anyio.Event()
        self.requested = False

    async def receive(self) -> Message:
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if self.hang_up_after is not None and len(self.chunks()) >= self.hang_up_after:
            self.gone.set()

    def chunks(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body" and m["body"]]

    async def run(self, response: Response, method: str = "GET") -> None:
        with anyio.fail_after(5):
            await response(http_scope(method), self.receive, self.send)


@pytest.mark.anyio
async def test_async_generator_body_is_streamed() -> None:
    async def numbers() -> AsyncIterator[str]:
        for i in range(3):
            yield f"{i},"

    async with client(lambda: StreamingResponse(numbers(), media_type="text/plain")) as c:
        response = await c.get("/")
    assert response.status_code == 200
    assert response.text == "0,1,2,"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "content-length" not in response.headers


@pytest.mark.anyio
async def test_sync_generator_runs_in_a_worker_thread() -> None:
    threads: list[int] = []

    def chunks() -> Iterator[bytes]:
        threads.append(threading.get_ident())
        yield b"hello "
        yield b"world"

    async with client(lambda: StreamingResponse(chunks())) as c:
        response = await c.get("/")
    assert response.content == b"hello world"
    assert threads
    assert threads[0] != threading.get_ident()


@pytest.mark.anyio
async def test_plain_iterables_and_bytes_like_chunks_are_accepted() -> None:
    async with client(
        lambda: StreamingResponse([b"a", b"", bytearray(b"b"), memoryview(b"c"), "d"])
    ) as c:
        response = await c.get("/")
    assert response.content == b"abcd"


@pytest.mark.anyio
async def test_custom_status_and_headers_are_sent() -> None:
    def make() -> Response:
        return StreamingResponse(iter(["x"]), status_code=201, headers={"X-Trace": "abc"})

    async with client(make) as c:
        response = await c.get("/")
    assert response.status_code == 201
    assert response.headers["x-trace"] == "abc"


@pytest.mark.anyio
async def test_head_sends_headers_without_consuming_the_generator() -> None:
    consumed: list[str] = []

    async def body() -> AsyncIterator[str]:
        consumed.append("started")
        yield "never sent"

    async with client(lambda: StreamingResponse(body(), media_type="text/plain")) as c:
        response = await c.head("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == b""
    assert consumed == []


@pytest.mark.anyio
async def test_client_disconnect_stops_async_generator_and_runs_finally() -> None:
    cleaned_up: list[bool] = []

    async def endless() -> AsyncIterator[str]:
        try:
            while True:
                yield "tick\n"
                await anyio.sleep(0.001)
        finally:
            cleaned_up.append(True)

    peer = Peer(hang_up_after=3)
    await peer.run(StreamingResponse(endless()))
    assert cleaned_up == [True]
    assert peer.chunks()[:3] == [b"tick\n"] * 3
    # Nothing is sent to a client that is gone: no closing body message.
    assert peer.messages[-1].get("more_body") is True


@pytest.mark.anyio
async def test_client_disconnect_stops_sync_generator_and_runs_finally() -> None:
    cleaned_up = threading.Event()

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"tick"
                time.sleep(0.001)
        finally:
            cleaned_up.set()

    peer = Peer(hang_up_after=2)
    await peer.run(StreamingResponse(endless()))
    assert cleaned_up.is_set()


@pytest.mark.anyio
async def test_background_task_runs_after_the_stream() -> None:
    events: list[str] = []

    async def body() -> AsyncIterator[str]:
        events.append("body")
        yield "x"

    async def after() -> None:
        events.append("background")

    peer = Peer()
    await peer.run(StreamingResponse(body(), background=BackgroundTask(after)))
    assert events == ["body", "background"]
    assert peer.messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.anyio
async def test_generator_error_propagates_unwrapped() -> None:
    async def broken() -> AsyncIterator[str]:
        yield "first"
        raise LookupError("boom")

    peer = Peer()
    with pytest.raises(LookupError, match="boom"):
        await peer.run(StreamingResponse(broken()))
    assert peer.chunks() == [b"first"]


@pytest.mark.anyio
async def test_non_text_chunk_raises_type_error() -> None:
    peer = Peer()
    with pytest.raises(TypeError, match="must be str or bytes, not int"):
        await peer.run(StreamingResponse([1, 2]))  # type: ignore[list-item]


def test_non_iterable_content_is_rejected() -> None:
    with pytest.raises(TypeError, match="iterable or async iterable"):
        StreamingResponse(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not str"):
        StreamingResponse("text is not a stream of chunks")


def test_header_values_with_newlines_are_rejected() -> None:
    with pytest.raises(ValueError, match="CR, LF"):
        StreamingResponse([b""], headers={"x-bad": "a\r\nset-cookie: x"})


@pytest.mark.anyio
async def test_send_asgi_streams_without_request_context() -> None:
    peer = Peer()
    await StreamingResponse(["a", "b"]).send_asgi(peer.send)
    assert peer.chunks() == [b"a", b"b"]
    head = Peer()
    await StreamingResponse(["a"]).send_asgi(head.send, head_only=True)
    assert head.chunks() == []


@pytest.mark.anyio
async def test_race_reports_whether_main_finished() -> None:
    async def quick() -> None:
        await anyio.sleep(0.001)

    async def forever() -> None:
        await anyio.sleep_forever()

    assert await race(quick, forever) is True
    assert await race(forever, quick) is False


@pytest.mark.anyio
async def test_headers_are_editable_before_sending() -> None:
    def make() -> Response:
        response = StreamingResponse(["x"])
        response.headers["x-added"] = "yes"
        response.set_cookie("session", "abc")
        return response

    async with client(make) as c:
        response = await c.get("/")
    assert response.headers["x-added"] == "yes"
    assert response.cookies["session"] == "abc"
