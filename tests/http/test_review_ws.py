"""A send after a receive saw the client leave raises `WebSocketDisconnect(1006)`.

Granian's ASGI interface drops the frames sent to a client that has left, even after
the app received its `websocket.disconnect`: a push loop whose reader task noticed the
client leave would go on sending forever. The live tests run it on every server.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from tests.e2e.live import SERVER_ARGS
from tests.e2e.live import SERVER_IDS
from tests.e2e.live import serving

from trivium import App
from trivium import WebSocket
from trivium import WebSocketDisconnect
from trivium.testing import TestClient

app = App()
outcomes: dict[str, str] = {}
"""How each push loop ended, by connection name."""


@app.get("/plaintext")
async def ready() -> str:
    return "ok"


@app.get("/outcome/{name}")
async def outcome(name: str) -> dict[str, str | None]:
    return {"outcome": outcomes.get(name)}


@app.websocket("/push/{name}")
async def push(websocket: WebSocket, name: str) -> None:
    """Send every 50 ms; a reader task notices the client leave."""
    await websocket.accept()
    left = asyncio.Event()

    async def read() -> None:
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            left.set()

    reader = asyncio.create_task(read())
    try:
        for _ in range(200):  # 10 s at most
            await websocket.send_text("tick")
            await asyncio.sleep(0.05)
        outcomes[name] = "still sending after 10 s"
    except WebSocketDisconnect as exc:
        outcomes[name] = f"disconnect {exc.code}" + (" after the reader" if left.is_set() else "")
    finally:
        reader.cancel()


def test_a_send_after_the_reader_saw_the_client_leave_raises() -> None:
    name = uuid.uuid4().hex
    with TestClient(app).websocket_connect(f"/push/{name}") as ws:
        assert ws.receive_text() == "tick"
    deadline = time.monotonic() + 5
    while name not in outcomes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert outcomes[name] == "disconnect 1006 after the reader"


@pytest.fixture(scope="module", params=SERVER_ARGS, ids=SERVER_IDS)
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    with serving(f"{__name__}:app", request.param) as url:
        yield url


def _outcome(server: str, name: str) -> str | None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        seen: str | None = httpx.get(f"{server}/outcome/{name}").json()["outcome"]
        if seen is not None:
            return seen
        time.sleep(0.05)
    return None


@pytest.mark.live
@pytest.mark.parametrize("leaving", ["close", "reset"])
def test_a_push_loop_ends_soon_after_the_client_leaves(server: str, leaving: str) -> None:
    from websockets.sync.client import connect

    name = uuid.uuid4().hex
    with connect(f"{server.replace('http', 'ws', 1)}/push/{name}", open_timeout=5) as ws:
        assert ws.recv(timeout=5) == "tick"
        if leaving == "reset":  # no close frame: the connection is reset
            ws.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
            ws.socket.close()
    seen = _outcome(server, name)
    assert seen is not None, "the push loop was still sending 5 s after the client left"
    assert seen.startswith("disconnect 1006")
