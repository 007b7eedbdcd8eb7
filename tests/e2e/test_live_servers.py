"""The same app behind real servers: Granian RSGI (the default), Granian ASGI and uvicorn."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from tests.e2e.live import SERVER_ARGS
from tests.e2e.live import SERVER_IDS
from tests.e2e.live import serving

pytestmark = pytest.mark.live


@pytest.fixture(params=SERVER_ARGS, ids=SERVER_IDS)
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    with serving("tests.e2e.live_app:app", request.param) as url:
        yield url


def test_plain_and_json_requests(server: str) -> None:
    assert httpx.get(server + "/plaintext").json() == "hello"
    response = httpx.post(server + "/echo", json={"a": [1, 2]})
    assert response.json() == {"a": [1, 2]}
    assert (
        httpx.post(
            server + "/echo", content=b"{", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_the_client_address_has_an_int_port(server: str) -> None:
    # Granian's ASGI interface hands the port over as a string; the spec says an int.
    with httpx.Client() as client:
        answer = client.get(server + "/client").json()
    assert answer["host"] == "127.0.0.1"
    assert isinstance(answer["port"], int)
    assert answer["port"] > 0


def test_server_sent_events_stream_ends(server: str) -> None:
    started = time.monotonic()
    with httpx.stream("GET", server + "/events", params={"count": 3}, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data:")]
    assert lines == ["data: 0", "data: 1", "data: 2"]
    assert time.monotonic() - started < 5


def test_websocket_echo(server: str) -> None:
    from websockets.sync.client import connect

    with connect(server.replace("http", "ws") + "/ws", open_timeout=5) as ws:
        ws.send("hi")
        assert ws.recv(timeout=5) == "echo: hi"
