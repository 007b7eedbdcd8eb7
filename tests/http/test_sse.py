"""EventSourceResponse and ServerSentEvent: framing, validation, pings, disconnects."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from trivium import App
from trivium.http._response import Response
from trivium.http._streaming import EventSourceResponse
from trivium.http._streaming import ServerSentEvent
from trivium.testing import TestClient
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def serve(make: Callable[[], Response]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await make()(scope, receive, send)

    return app


async def fetch(make: Callable[[], Response]) -> httpx.Response:
    transport = httpx.ASGITransport(app=serve(make))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await c.get("/")


async def events_body(*items: object, sep: str = "\n") -> bytes:
    response = await fetch(lambda: EventSourceResponse(iter(items), ping=None, sep=sep))
    return response.content


class Peer:
    """A hand-driven ASGI client that hangs up after `hang_up_after` body chunks."""

    def __init__(self, hang_up_after: int) -> None:
        self.chunks: list[bytes] = []
        self.hang_up_after = hang_up_after
        self.gone = anyio.Event()

    async def receive(self) -> Message:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body" and message["body"]:
            self.chunks.append(message["body"])
            if len(self.chunks) >= self.hang_up_after:
                self.gone.set()

    async def run(self, response: Response) -> None:
        scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
        with anyio.fail_after(5):
            await response(scope, self.receive, self.send)


# Framing of each field


def test_data_only_event() -> None:
    assert ServerSentEvent(data="hello").encode() == b"data: hello\n\n"


def test_every_field_is_framed() -> None:
    event = ServerSentEvent(data="payload", event="update", id="42", retry=1500, comment="note")
    assert event.encode() == (b": note\nevent: update\nid: 42\nretry: 1500\ndata: payload\n\n")


def test_multiline_data_becomes_several_data_lines() -> None:
    event = ServerSentEvent(data="one\ntwo\r\nthree\rfour")
    assert event.encode() == b"data: one\ndata: two\ndata: three\ndata: four\n\n"


def test_empty_lines_in_data_are_kept() -> None:
    assert ServerSentEvent(data="a\n\nb").encode() == b"data: a\ndata:\ndata: b\n\n"
    assert ServerSentEvent(data="").encode() == b"data:\n\n"


def test_multiline_comment_becomes_several_comment_lines() -> None:
    assert ServerSentEvent(comment="first\nsecond").encode() == b": first\n: second\n\n"


def test_non_ascii_data_is_utf8() -> None:
    assert ServerSentEvent(data="héllo ✓").encode() == "data: héllo ✓\n\n".encode()


def test_non_string_data_is_json_encoded() -> None:
    assert ServerSentEvent(data={"a": [1, 2]}).encode() == b'data: {"a":[1,2]}\n\n'
    assert ServerSentEvent(data=b"raw").encode() == b"data: raw\n\n"


def test_empty_id_resets_last_event_id() -> None:
    assert ServerSentEvent(id="").encode() == b"id: \n\n"


def test_custom_separator() -> None:
    event = ServerSentEvent(data="a\nb", id="1")
    assert event.encode("\r\n") == b"id: 1\r\ndata: a\r\ndata: b\r\n\r\n"


# Validation


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\r\nb"])
def test_id_with_line_break_is_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="id must not contain line breaks"):
        ServerSentEvent(id=value)


def test_id_with_nul_is_rejected() -> None:
    with pytest.raises(ValueError, match="NUL"):
        ServerSentEvent(id="a\0b")


def test_event_with_line_break_is_rejected() -> None:
    with pytest.raises(ValueError, match="event must not contain line breaks"):
        ServerSentEvent(event="update\ndata: injected")


@pytest.mark.parametrize("value", [-1, 1.5, True, "100"])
def test_retry_must_be_a_non_negative_int(value: Any) -> None:
    with pytest.raises(ValueError, match="retry must be an int"):
        ServerSentEvent(retry=value)


def test_non_string_event_is_rejected() -> None:
    with pytest.raises(ValueError, match="event must be a str"):
        ServerSentEvent(event=5)  # type: ignore[arg-type]


def test_invalid_separator_is_rejected() -> None:
    with pytest.raises(ValueError, match="sep must be"):
        EventSourceResponse(iter([]), sep="\n\n")


@pytest.mark.parametrize("ping", [0, -1.0])
def test_non_positive_ping_is_rejected(ping: float) -> None:
    with pytest.raises(ValueError, match="ping must be a positive number"):
        EventSourceResponse(iter([]), ping=ping)


# Over HTTP


@pytest.mark.anyio
async def test_response_headers() -> None:
    response = await fetch(lambda: EventSourceResponse(iter(["x"]), headers={"X-Extra": "1"}))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-extra"] == "1"
    assert "content-length" not in response.headers


@pytest.mark.anyio
async def test_caller_headers_override_the_defaults() -> None:
    response = await fetch(
        lambda: EventSourceResponse(iter([]), headers={"Cache-Control": "no-store"})
    )
    assert response.headers.get_list("cache-control") == ["no-store"]


@pytest.mark.anyio
async def test_items_of_every_kind() -> None:
    body = await events_body(
        "plain",
        {"event": "tick", "data": "1", "id": "a"},
        ServerSentEvent(data="x", retry=10),
        ServerSentEvent(data={"count": 3}),
        7,
    )
    assert body == (
        b"data: plain\n\n"
        b"event: tick\nid: a\ndata: 1\n\n"
        b"retry: 10\ndata: x\n\n"
        b'data: {"count":3}\n\n'
        b"data: 7\n\n"
    )


@pytest.mark.anyio
async def test_dict_items_use_event_fields() -> None:
    body = await events_body({"data": "line1\nline2", "event": "multi"}, {"comment": "c"})
    assert body == b"event: multi\ndata: line1\ndata: line2\n\n: c\n\n"


@pytest.mark.anyio
async def test_dict_with_other_keys_is_sent_as_json_data() -> None:
    assert await events_body({"count": 3}) == b'data: {"count":3}\n\n'


@pytest.mark.anyio
async def test_dict_mixing_event_fields_and_other_keys_is_sent_as_json_data() -> None:
    body = await events_body({"data": "x", "event": "tick", "n": 1})
    assert body == b'data: {"data":"x","event":"tick","n":1}\n\n'


@pytest.mark.anyio
async def test_empty_dict_is_sent_as_json_data() -> None:
    assert await events_body({}) == b"data: {}\n\n"


@pytest.mark.anyio
async def test_none_is_sent_as_json_null() -> None:
    assert await events_body(None) == b"data: null\n\n"


@pytest.mark.anyio
async def test_invalid_id_from_the_generator_raises() -> None:
    with pytest.raises(ValueError, match="id must not contain line breaks"):
        await events_body({"id": "1\n2", "data": "x"})


@pytest.mark.anyio
async def test_generator_error_propagates_unwrapped_with_pings_on() -> None:
    async def broken() -> AsyncIterator[str]:
        yield "ok"
        raise LookupError("no more events")

    with pytest.raises(LookupError, match="no more events"):
        await fetch(lambda: EventSourceResponse(broken(), ping=10))


@pytest.mark.anyio
async def test_sync_generator_of_events() -> None:
    def ticks() -> Iterator[ServerSentEvent]:
        for i in range(2):
            time.sleep(0.001)
            yield ServerSentEvent(data=str(i), id=str(i))

    response = await fetch(lambda: EventSourceResponse(ticks(), ping=None))
    assert response.content == b"id: 0\ndata: 0\n\nid: 1\ndata: 1\n\n"


@pytest.mark.anyio
async def test_crlf_separator_over_http() -> None:
    assert await events_body("a\nb", sep="\r\n") == b"data: a\r\ndata: b\r\n\r\n"


@pytest.mark.anyio
async def test_head_sends_no_events() -> None:
    transport = httpx.ASGITransport(app=serve(lambda: EventSourceResponse(iter(["x"]))))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.head("/")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content == b""


# In an app: a returned EventSourceResponse and a generator handler


def sse_app() -> App:
    app = App(openapi_url=None)

    @app.get("/returned")
    async def returned(kind: str) -> EventSourceResponse:
        async def events() -> AsyncIterator[object]:
            for item in ITEMS[kind]:
                yield item

        return EventSourceResponse(events(), ping=None)

    @app.get("/yielded", response_class=EventSourceResponse)
    async def yielded(kind: str) -> AsyncIterator[object]:
        for item in ITEMS[kind]:
            yield item

    @app.get("/broken", response_class=EventSourceResponse)
    async def broken() -> AsyncIterator[object]:
        yield {"n": 1}
        raise LookupError("no more events")

    @app.get("/broken-returned")
    async def broken_returned() -> EventSourceResponse:
        async def events() -> AsyncIterator[object]:
            yield {"n": 1}
            raise LookupError("no more events")

        return EventSourceResponse(events(), ping=None)

    return app


ITEMS: dict[str, list[object]] = {
    "payload": [{"n": 1}, [1, 2], 7, None],
    "event": [ServerSentEvent(data={"n": 1}, event="tick", id="1")],
    "fields": [{"data": "x", "event": "tick"}],
    "text": ["hello"],
}


@pytest.mark.parametrize("kind", ["payload", "event"])
def test_returned_and_yielded_items_are_framed_alike(kind: str) -> None:
    client = TestClient(sse_app())
    returned = client.get("/returned", params={"kind": kind})
    yielded = client.get("/yielded", params={"kind": kind})
    assert returned.status_code == yielded.status_code == 200
    assert returned.text == yielded.text
    assert returned.text != ""


def test_a_payload_dict_is_json_data_on_both_paths() -> None:
    client = TestClient(sse_app())
    for path in ("/returned", "/yielded"):
        response = client.get(path, params={"kind": "payload"})
        assert response.text == 'data: {"n":1}\n\ndata: [1,2]\n\ndata: 7\n\ndata: null\n\n'


def test_a_server_sent_event_sets_the_fields_on_both_paths() -> None:
    client = TestClient(sse_app())
    for path in ("/returned", "/yielded"):
        response = client.get(path, params={"kind": "event"})
        assert response.text == 'event: tick\nid: 1\ndata: {"n":1}\n\n'


def test_event_field_dicts_and_text_differ_as_documented() -> None:
    # A returned EventSourceResponse reads a dict of event fields as an event and sends
    # text as it is (sse-starlette); a generator handler's items are JSON data (FastAPI).
    client = TestClient(sse_app())
    assert client.get("/returned", params={"kind": "fields"}).text == "event: tick\ndata: x\n\n"
    fields = client.get("/yielded", params={"kind": "fields"}).text
    assert fields == 'data: {"data":"x","event":"tick"}\n\n'
    assert client.get("/returned", params={"kind": "text"}).text == "data: hello\n\n"
    assert client.get("/yielded", params={"kind": "text"}).text == 'data: "hello"\n\n'


@pytest.mark.parametrize("path", ["/broken", "/broken-returned"])
def test_an_error_in_the_generator_ends_the_stream_after_the_sent_events(path: str) -> None:
    with pytest.raises(LookupError, match="no more events"):
        TestClient(sse_app()).get(path)
    response = TestClient(sse_app(), raise_server_exceptions=False).get(path)
    assert response.text == 'data: {"n":1}\n\n'


# Pings and disconnects (driven through raw ASGI)


@pytest.mark.anyio
async def test_pings_are_sent_while_idle() -> None:
    async def slow() -> AsyncIterator[str]:
        yield "first"
        await anyio.sleep(0.3)
        yield "second"

    peer = Peer(hang_up_after=100)
    await peer.run(EventSourceResponse(slow(), ping=0.02))
    # On a loaded machine one more ping may slip in before the stream ends: harmless.
    events = [chunk for chunk in peer.chunks if chunk != b": ping\n\n"]
    assert events == [b"data: first\n\n", b"data: second\n\n"]
    assert peer.chunks[0] == b"data: first\n\n"
    between = peer.chunks[1 : peer.chunks.index(b"data: second\n\n")]
    assert len(between) >= 3
    assert set(between) == {b": ping\n\n"}


@pytest.mark.anyio
async def test_ping_uses_the_separator() -> None:
    async def idle() -> AsyncIterator[str]:
        await anyio.sleep_forever()
        yield "never"

    peer = Peer(hang_up_after=1)
    await peer.run(EventSourceResponse(idle(), ping=0.01, sep="\r\n"))
    assert peer.chunks == [b": ping\r\n\r\n"]


@pytest.mark.anyio
async def test_no_pings_when_disabled() -> None:
    async def slow() -> AsyncIterator[str]:
        await anyio.sleep(0.1)
        yield "only"

    peer = Peer(hang_up_after=100)
    await peer.run(EventSourceResponse(slow(), ping=None))
    assert peer.chunks == [b"data: only\n\n"]


@pytest.mark.anyio
async def test_disconnect_closes_the_event_generator() -> None:
    closed: list[bool] = []

    async def endless() -> AsyncIterator[dict[str, str]]:
        try:
            n = 0
            while True:
                yield {"data": str(n)}
                n += 1
                await anyio.sleep(0.001)
        finally:
            closed.append(True)

    # The ping is far off: this test is about the generator, and a ping landing between
    # two events on a loaded machine would shift the chunks the peer counts.
    peer = Peer(hang_up_after=3)
    await peer.run(EventSourceResponse(endless(), ping=60))
    assert closed == [True]
    assert peer.chunks[:3] == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n"]


@pytest.mark.anyio
async def test_disconnect_while_idle_closes_a_sync_generator() -> None:
    closed = threading.Event()

    def endless() -> Iterator[str]:
        try:
            while True:
                yield "x"
                time.sleep(0.005)
        finally:
            closed.set()

    peer = Peer(hang_up_after=2)
    await peer.run(EventSourceResponse(endless(), ping=0.01))
    assert closed.is_set()


# A real server


@pytest.mark.live
@pytest.mark.anyio
async def test_live_server_streams_events_and_notices_the_client_leaving() -> None:
    uvicorn = pytest.importorskip("uvicorn")
    closed = anyio.Event()

    async def endless() -> AsyncIterator[ServerSentEvent]:
        try:
            n = 0
            while True:
                yield ServerSentEvent(data=f"event {n}", id=str(n))
                n += 1
                await anyio.sleep(0.01)
        finally:
            closed.set()

    app = serve(lambda: EventSourceResponse(endless(), ping=0.05))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, http="h11", ws="none", lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    with sock, anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [sock])
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await anyio.sleep(0.01)
            lines: list[str] = []
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
                async with c.stream("GET", "/") as response:
                    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
                    async for line in response.aiter_lines():
                        lines.append(line)
                        if len(lines) >= 6:
                            break
            await closed.wait()
            server.should_exit = True
    assert lines == ["id: 0", "data: event 0", "", "id: 1", "data: event 1", ""]
