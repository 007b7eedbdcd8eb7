"""Generator handlers stream what they yield: JSON Lines, server-sent events or raw chunks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable
from collections.abc import AsyncIterator
from collections.abc import Iterable
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from trivium import App
from trivium import Depends
from trivium import Response
from trivium.errors import ConfigurationError
from trivium.responses import EventSourceResponse
from trivium.responses import HTMLResponse
from trivium.responses import ServerSentEvent
from trivium.responses import StreamingResponse
from trivium.testing import TestClient


class Item(BaseModel):
    name: str


def lines(text: str) -> list[object]:
    return [json.loads(line) for line in text.splitlines()]


def test_async_generator_streams_validated_items_as_json_lines() -> None:
    app = App()

    @app.get("/items")
    async def items() -> AsyncIterable[Item]:
        yield {"name": "a", "password": "secret"}
        yield Item(name="b")

    with TestClient(app) as client:
        response = client.get("/items")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jsonl"
    assert lines(response.text) == [{"name": "a"}, {"name": "b"}]


def test_sync_generator_without_annotation_streams_plain_json() -> None:
    app = App()

    @app.get("/numbers")
    def numbers():  # type: ignore[no-untyped-def]
        yield from ({"n": n} for n in range(3))

    with TestClient(app) as client:
        response = client.get("/numbers")
    assert response.headers["content-type"] == "application/jsonl"
    assert lines(response.text) == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_an_item_outside_the_annotated_type_ends_the_stream() -> None:
    app = App()

    @app.get("/items")
    async def items() -> AsyncIterator[Item]:
        yield Item(name="ok")
        yield {"wrong": 1}

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/items")
    assert response.text.splitlines() == ['{"name":"ok"}']


def test_event_source_generator_sends_items_as_json_data() -> None:
    app = App()

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterable[Item]:
        yield Item(name="a")

    @app.get("/raw-events", response_class=EventSourceResponse)
    def raw_events() -> Iterable[ServerSentEvent]:
        yield ServerSentEvent(data="hello", event="greeting", id="1")

    with TestClient(app) as client:
        items = client.get("/events")
        raw = client.get("/raw-events")
    assert items.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert items.text == 'data: {"name":"a"}\n\n'
    assert raw.text == "event: greeting\nid: 1\ndata: hello\n\n"


def test_streaming_response_class_sends_the_chunks_as_they_are() -> None:
    app = App()

    class PNGStream(StreamingResponse):
        media_type = "image/png"

    @app.get("/story", response_class=StreamingResponse)
    async def story() -> AsyncIterable[str]:
        yield "once "
        yield "upon"

    @app.get("/image", response_class=PNGStream)
    def image() -> Iterator[bytes]:
        yield b"\x89PNG"

    with TestClient(app) as client:
        story_response = client.get("/story")
        image_response = client.get("/image")
    assert story_response.text == "once upon"
    assert image_response.headers["content-type"] == "image/png"
    assert image_response.content == b"\x89PNG"


def test_status_headers_and_teardown_apply_to_a_streamed_handler() -> None:
    app = App()
    closed: list[str] = []

    async def resource(response: Response) -> AsyncIterator[str]:
        # Headers are sent before the generator runs: set them from a dependency.
        response.headers["x-source"] = "db"
        yield "db"
        closed.append("db")

    @app.get("/items", status_code=201)
    async def items(db: str = Depends(resource)) -> AsyncIterable[dict[str, str]]:
        yield {"from": db}
        closed.append("generator done")

    with TestClient(app) as client:
        result = client.get("/items")
    assert result.status_code == 201
    assert result.headers["x-source"] == "db"
    assert lines(result.text) == [{"from": "db"}]
    assert closed == ["generator done", "db"]


def test_generator_handler_with_a_non_streaming_response_class_is_refused() -> None:
    app = App()

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> AsyncIterable[str]:
        yield "<p>"

    with pytest.raises(ConfigurationError, match="HTMLResponse cannot stream"):
        app.build()


def test_openapi_documents_the_stream_items() -> None:
    app = App()

    @app.get("/items")
    async def items() -> AsyncIterable[Item]:
        yield Item(name="a")

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterable[Item]:
        yield Item(name="a")

    paths = app.openapi()["paths"]
    jsonl = paths["/items"]["get"]["responses"]["200"]["content"]
    assert jsonl == {"application/jsonl": {"x-itemSchema": {"$ref": "#/components/schemas/Item"}}}
    sse = paths["/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    assert sse["x-itemSchema"]["properties"]["data"]["contentSchema"] == {
        "$ref": "#/components/schemas/Item"
    }
    assert sse["x-itemSchema"]["required"] == ["data"]


def test_response_model_exclude_filters_every_streamed_item() -> None:
    app = App()

    @app.get("/users", response_model_exclude={"password_hash"})
    async def users():  # type: ignore[no-untyped-def]
        yield {"name": "a", "password_hash": "x"}

    with TestClient(app) as client:
        assert lines(client.get("/users").text) == [{"name": "a"}]
