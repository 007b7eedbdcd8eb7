"""What a handler sees of a client that leaves, and a subprotocol, behind real servers.

Over RSGI, sending to a client that had left raised Granian's `RSGIProtocolClosed`
instead of the `WebSocketDisconnect` ASGI servers give; and `accept(subprotocol=...)`,
which RSGI can't send, was dropped without a word. This module's `app` runs under
`trivium run` on both interfaces.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from tests import live

from trivium import App
from trivium import WebSocket
from trivium import WebSocketDisconnect

pytestmark = pytest.mark.live

app = App()
events: list[str] = []


@app.get("/events")
async def seen() -> list[str]:
    return events


@app.websocket("/ticker")
async def ticker(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text("tick")
            await asyncio.sleep(0.02)
    except WebSocketDisconnect as exc:
        events.append(f"client left ({exc.code})")
    except Exception as exc:  # noqa: BLE001 - what the test looks for
        events.append(f"raised {type(exc).__name__}")


@app.websocket("/chat")
async def chat(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="chat" if "chat" in websocket.subprotocols else None)
    await websocket.send_text("hi")
    await websocket.close()


@pytest.fixture(scope="module", params=["rsgi", "asgi"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[live.Server, str]]:
    interface: str = request.param
    with live.trivium_run(
        f"{__name__}:app", "--interface", interface, ready_path="/events", timeout=20
    ) as running:
        yield running, interface


def test_sending_to_a_client_that_left_is_a_websocket_disconnect(
    server: tuple[live.Server, str],
) -> None:
    import httpx
    from websockets.sync.client import connect

    running, interface = server
    if interface == "asgi":
        pytest.skip("Granian's ASGI interface never reports the client's departure to a send")
    with connect(running.url.replace("http", "ws", 1) + "/ticker", open_timeout=5) as ws:
        for _ in range(3):
            assert ws.recv(timeout=5) == "tick"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = httpx.get(running.url + "/events").json()
        if found:
            break
        time.sleep(0.05)
    assert len(found) == 1
    assert found[0].startswith("client left (")


def test_a_subprotocol_is_agreed_over_asgi_and_rsgi_says_it_cannot(
    server: tuple[live.Server, str],
) -> None:
    from websockets.sync.client import connect

    running, interface = server
    url = running.url.replace("http", "ws", 1) + "/chat"
    if interface == "asgi":
        with connect(url, subprotocols=["chat"], open_timeout=5) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "chat"
            assert ws.recv(timeout=5) == "hi"
        return
    with connect(url, subprotocols=["chat"], open_timeout=5) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None  # a browser would drop this connection
    deadline = time.monotonic() + 5
    while "can't be honoured over RSGI" not in running.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "serve with --interface asgi" in running.output()
