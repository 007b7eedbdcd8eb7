from __future__ import annotations

import time
from collections.abc import Iterator

import orjson
import pytest

from examples.streaming.app import app
from trivium.testing import TestClient


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as running:
        yield running


def wait_idle(client: TestClient) -> dict[str, int]:
    deadline = time.monotonic() + 5
    while (usage := client.get("/usage").json())["open"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return usage  # type: ignore[no-any-return]


def test_tokens_arrive_as_server_sent_events(client: TestClient) -> None:
    with client.stream("GET", "/chat", params={"prompt": "hi", "delay": 0}) as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["x-accel-buffering"] == "no"
        lines = [line for line in response.iter_lines() if line.startswith("data:")]
    assert lines[:3] == ["data: You ", "data: asked: ", "data: hi. "]
    assert lines[-1] == "data:"  # the `done` event


def test_tokens_arrive_as_json_lines(client: TestClient) -> None:
    with client.stream("GET", "/chat.jsonl", params={"prompt": "hi", "delay": 0}) as response:
        assert response.headers["content-type"] == "application/jsonl"
        first = [
            orjson.loads(line) for _, line in zip(range(2), response.iter_lines(), strict=False)
        ]
    assert first == [{"text": "You "}, {"text": "asked: "}]


@pytest.mark.parametrize("path", ["/chat", "/chat.jsonl"])
def test_generation_stops_when_the_client_leaves(client: TestClient, path: str) -> None:
    before = wait_idle(client)["tokens"]
    read = 0
    with client.stream("GET", path, params={"prompt": "hi", "delay": 0.05}) as response:
        for line in response.iter_lines():
            if line.startswith(("data:", "{")):
                read += 1
                if read == 3:
                    break
    usage = wait_idle(client)
    assert usage["open"] == 0
    assert usage["tokens"] - before <= read + 1  # at most one token after the client left
