"""A websocket with a per-message rate limit closes promptly behind a real Granian server.

The per-message limit wraps the connection's `receive`, which puts the `WebSocket` in a
reference cycle: over RSGI the transport was then kept alive until the cyclic collector
ran, and Granian, its close frame sent, left the TCP connection open all that time (the
client waited for it until its own close timeout). These tests run this module's `app`
under `trivium run` and expect every close, ours or the client's, within 2 seconds.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from tests import live

from trivium import App
from trivium import WebSocket
from trivium.errors import WebSocketException
from trivium.http import HTTPConnection
from trivium.ratelimit import RateLimit
from trivium.ratelimit import RateLimits

pytestmark = pytest.mark.live


def _by_name(connection: HTTPConnection) -> str | None:
    # One budget per test connection, whatever ran before it on the same server.
    return connection.query_params.get("name")


app = App(plugins=[RateLimits()])


@app.get("/ready")
async def ready() -> str:
    return "ok"


@app.websocket("/limited", rate_limit=RateLimit("2/minute", key=_by_name, per_message=True))
async def limited(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


@app.websocket("/raises", rate_limit=RateLimit("100/minute", key=_by_name, per_message=True))
async def raises(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.receive_text()
    raise WebSocketException(1008, "policy")


@app.websocket("/refused")
async def refused(websocket: WebSocket) -> None:
    raise WebSocketException(1008, "not for you")  # before accept: the handshake is refused


@pytest.fixture(scope="module", params=["rsgi", "asgi"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    interface: str = request.param
    with live.trivium_run(
        f"{__name__}:app", "--interface", interface, ready_path="/ready", timeout=20
    ) as running:
        yield running.url.replace("http", "ws", 1), interface


def _closed_within(ws: object, seconds: float) -> float:
    """Wait until the server has closed `ws`; return how long that took."""
    from websockets.exceptions import ConnectionClosed

    started = time.monotonic()
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=seconds)  # type: ignore[attr-defined]
    return time.monotonic() - started


def _check_code(ws: object, interface: str, reason: str) -> None:
    if interface == "asgi":
        assert ws.close_code == 1008  # type: ignore[attr-defined]
        assert reason in ws.close_reason  # type: ignore[attr-defined]
    else:  # RSGI closes without a code after the handshake (see docs/websockets.md)
        assert ws.close_code in (1005, 1008)  # type: ignore[attr-defined]


def test_closes_once_the_message_limit_is_passed(server: tuple[str, str]) -> None:
    from websockets.sync.client import connect

    url, interface = server
    with connect(f"{url}/limited?name={uuid.uuid4().hex}", open_timeout=5) as ws:
        for text in ("one", "two"):
            ws.send(text)
            assert ws.recv(timeout=5) == text
        ws.send("three")
        assert _closed_within(ws, 2) < 2
        _check_code(ws, interface, "rate limit exceeded")


def test_closes_when_the_handler_raises(server: tuple[str, str]) -> None:
    from websockets.sync.client import connect

    url, interface = server
    with connect(f"{url}/raises?name={uuid.uuid4().hex}", open_timeout=5) as ws:
        ws.send("one")
        assert ws.recv(timeout=5) == "one"
        ws.send("two")
        assert _closed_within(ws, 2) < 2
        _check_code(ws, interface, "policy")


def test_the_clients_close_completes(server: tuple[str, str]) -> None:
    from websockets.sync.client import connect

    url, _ = server
    with connect(f"{url}/limited?name={uuid.uuid4().hex}", open_timeout=5, close_timeout=2) as ws:
        ws.send("one")
        assert ws.recv(timeout=5) == "one"
        started = time.monotonic()
        ws.close()
        assert time.monotonic() - started < 1
        assert ws.close_code == 1000


def test_refused_handshakes_are_answered_403_and_the_worker_lives_on(
    server: tuple[str, str],
) -> None:
    # Over RSGI the close code was handed to Granian as the refusal's HTTP status: the
    # worker died on it, and a few refusals made Granian stop the server.
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url, _ = server
    for _ in range(4):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{url}/refused", open_timeout=5)
        assert refused.value.response.status_code == 403
    with connect(f"{url}/limited?name={uuid.uuid4().hex}", open_timeout=5) as ws:
        ws.send("still serving")
        assert ws.recv(timeout=5) == "still serving"
