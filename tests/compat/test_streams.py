"""FastAPI's streaming handlers through the compat paths: `fastapi.sse` semantics."""

from __future__ import annotations

from collections.abc import AsyncIterable

import pytest
from pydantic import BaseModel

from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi.sse import EventSourceResponse
from trivium.compat.fastapi.sse import ServerSentEvent
from trivium.compat.fastapi.sse import format_sse_event
from trivium.compat.fastapi.testclient import TestClient


class Prompt(BaseModel):
    text: str


def test_event_data_is_json_and_raw_data_is_sent_as_it_is() -> None:
    app = FastAPI()

    @app.post("/chat", response_class=EventSourceResponse)
    async def chat(prompt: Prompt) -> AsyncIterable[ServerSentEvent]:
        for word in prompt.text.split():
            yield ServerSentEvent(data=word, event="token")
        yield ServerSentEvent(raw_data="[DONE]", event="done")

    response = TestClient(app).post("/chat", json={"text": "hello world"})
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    data = [line for line in response.text.splitlines() if line.startswith("data: ")]
    assert data == ['data: "hello"', 'data: "world"', "data: [DONE]"]


def test_data_and_raw_data_together_are_refused() -> None:
    with pytest.raises(ValueError, match="both 'data' and 'raw_data'"):
        ServerSentEvent(data=1, raw_data="1")


def test_format_sse_event_frames_preformatted_data() -> None:
    assert format_sse_event(data_str='{"a":1}', event="e") == b'event: e\ndata: {"a":1}\n\n'
