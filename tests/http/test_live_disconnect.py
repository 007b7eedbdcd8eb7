"""Streams stop when the client leaves: real Granian (RSGI and ASGI) and uvicorn servers.

The producer yields a chunk every 50 ms; the client reads three and hangs up. The server
must notice and close the producer at once: at most one chunk is produced after the
client went away, and the producer's `finally` runs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from tests.e2e.live import SERVER_ARGS
from tests.e2e.live import SERVER_IDS
from tests.e2e.live import serving

pytestmark = pytest.mark.live


@pytest.fixture(scope="module", params=SERVER_ARGS, ids=SERVER_IDS)
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    with serving("tests.http.live_streams:app", request.param) as url:
        yield url


def _read_then_leave(url: str, wanted: int) -> int:
    """Read `wanted` non-empty lines of the stream at `url`, then close the connection."""
    seen = 0
    with httpx.stream("GET", url, timeout=10) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.strip() and not line.startswith(":"):
                seen += 1
                if seen == wanted:
                    break
    return seen


def _wait_closed(server: str, name: str) -> dict[str, object]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        stats = httpx.get(f"{server}/stats/{name}").json()
        if stats["closed"]:
            return stats
        time.sleep(0.02)
    pytest.fail(f"the producer of {name} was still running 5 s after the client left")


@pytest.mark.parametrize("kind", ["chunks", "events", "lines"])
def test_producer_stops_when_the_client_leaves(server: str, kind: str) -> None:
    name = uuid.uuid4().hex
    seen = _read_then_leave(f"{server}/{kind}/{name}", 3)
    stats = _wait_closed(server, name)
    assert seen == 3
    assert stats["produced"] <= seen + 1
    # Nothing runs on after the close.
    time.sleep(0.15)
    assert httpx.get(f"{server}/stats/{name}").json()["produced"] == stats["produced"]
