"""A websocket the server closes is freed, even when the client no longer reads.

Over RSGI, a receive still waiting when the app closed the socket was never woken: the
client that stopped reading (or died without a FIN) sends nothing, so Granian's receive
never ended, the handler stayed blocked and its future kept the connection open. A
channel socket closed with 1011 for a stuck client thus kept its subscription and its
presence entry for good. The clients here are raw sockets that complete the handshake
and then read nothing; both interfaces must free the handler within a few seconds.
The in-process test runs over RSGI in the `TRIVIUM_TEST_INTERFACE=rsgi` pass.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tests import live

from trivium import App
from trivium import WebSocket
from trivium.channels import Channels
from trivium.channels import ChannelsDep
from trivium.testing import TestClient

channels = Channels("memory", queue_limit=50)
app = App(plugins=[channels], openapi_url=None)
events: list[str] = []


@app.get("/events")
async def seen() -> list[str]:
    return events


@app.get("/members")
async def members() -> list[Any]:
    return await channels.members("feed")


@app.post("/publish")
async def publish() -> None:
    # Megabytes, more than the socket buffers of a client that reads nothing hold.
    for i in range(20):
        await channels.publish("feed", {"i": i, "blob": "x" * 1_000_000})


@app.websocket("/closed-by-server")
async def closed_by_server(websocket: WebSocket) -> None:
    await websocket.accept()

    async def close_soon() -> None:
        await asyncio.sleep(0.2)
        await websocket.close(1001)

    closer = asyncio.create_task(close_soon())
    try:
        message = await websocket.receive()
        events.append(f"received {message['type']}")
    finally:
        await closer
        events.append("handler ended")


@app.websocket("/feed")
async def feed(websocket: WebSocket, channels: ChannelsDep, name: str) -> None:
    try:
        async with channels.connect(websocket, "feed", ping=1.0) as joined:
            await joined.join("feed", {"name": name})
            async for _ in websocket.iter_text():
                pass
    finally:
        events.append(f"{name} ended")


@pytest.fixture(scope="module", params=["rsgi", "asgi"])
def server(request: pytest.FixtureRequest) -> Iterator[live.Server]:
    with live.trivium_run(
        f"{__name__}:app", "--interface", request.param, ready_path="/events", timeout=20
    ) as running:
        yield running


def _handshake(server: live.Server, path: str) -> socket.socket:
    """Open a websocket on a raw socket, read the 101 and nothing more; return the socket."""
    address = urlsplit(server.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)  # a byte at a time: leave any frame after the head unread
        assert chunk, "the server hung up during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _events(server: live.Server) -> list[str]:
    found: list[str] = httpx.get(server.url + "/events", timeout=5).json()
    return found


@pytest.mark.live
def test_a_server_close_ends_a_receive_the_client_never_answers(server: live.Server) -> None:
    with _handshake(server, "/closed-by-server") as sock:
        assert _wait_for(lambda: "handler ended" in _events(server), 3), _events(server)
        assert "received websocket.disconnect" in _events(server)
        # The connection is let go: the client gets the close frame, then the end of it.
        sock.settimeout(5)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        assert data[:1] == b"\x88"  # FIN + close opcode


@pytest.mark.live
def test_a_client_that_stopped_reading_is_freed_with_its_presence(server: live.Server) -> None:
    with _handshake(server, "/feed?name=stuck"):
        assert _wait_for(lambda: httpx.get(server.url + "/members").json() != [], 3)
        httpx.post(server.url + "/publish", timeout=10)
        # `ping=1.0`: a frame the client can't take in a second closes the socket (1011).
        assert _wait_for(lambda: "stuck ended" in _events(server), 5), _events(server)
        assert httpx.get(server.url + "/members").json() == []


def test_a_close_sent_while_another_task_receives_reaches_the_client() -> None:
    with TestClient(app) as client, client.websocket_connect("/closed-by-server") as ws:
        message = ws.receive()
        assert (message["type"], message["code"]) == ("websocket.close", 1001)
