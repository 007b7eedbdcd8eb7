"""Streams on real servers (Granian RSGI and ASGI, uvicorn): early failures, clients that leave.

A stream that fails before its first chunk is answered like a handler's error on every
server (over RSGI it used to be an empty `200`). A client that leaves a fast stream
stops its producer without an error in the server's log, even when the producer never
awaits (uvicorn's `send` to a gone client returns without suspending).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from tests import live
from tests.e2e.live import SERVER_ARGS
from tests.e2e.live import SERVER_IDS

pytestmark = pytest.mark.live


@pytest.fixture(scope="module", params=SERVER_ARGS, ids=SERVER_IDS)
def server(request: pytest.FixtureRequest) -> Iterator[live.Server]:
    with live.trivium_run(
        "tests.http.live_stream_errors:app", *request.param, ready_path="/plaintext", timeout=20
    ) as running:
        yield running


def test_http_exception_before_the_first_item_gets_its_status(server: live.Server) -> None:
    response = httpx.get(server.url + "/missing", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"detail": "no such item"}


def test_error_before_the_first_chunk_gets_a_500(server: live.Server) -> None:
    response = httpx.get(server.url + "/broken", timeout=10)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_leaving_a_fast_stream_stops_the_producer_quietly(server: live.Server) -> None:
    name = uuid.uuid4().hex
    received = 0
    with httpx.stream("GET", f"{server.url}/busy/{name}", timeout=10) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > 3 * 65536:
                break
    deadline = time.monotonic() + 5
    while not (stats := httpx.get(f"{server.url}/stats/{name}").json())["closed"]:
        assert time.monotonic() < deadline, "the producer still runs 5 s after the client left"
        time.sleep(0.02)
    assert stats["produced"] < 20_000  # stopped, not run to its end
    time.sleep(0.2)
    output = server.output()
    assert "RSGIProtocolClosed" not in output
    assert "ConnectionResetError" not in output
