"""Websockets through the compat paths: Starlette's test-client outcomes."""

from __future__ import annotations

import pytest
from tests.refusals import refused_with

from trivium import App
from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi import WebSocket
from trivium.compat.fastapi import WebSocketDisconnect
from trivium.compat.fastapi.testclient import TestClient


def echo_app(app: App) -> App:
    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:  # the disconnect is not caught here
            await websocket.send_text(await websocket.receive_text())

    @app.websocket("/caught")
    async def caught(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass

    @app.websocket("/items/{item_id}")
    async def item(websocket: WebSocket, item_id: int, token: str) -> None:
        await websocket.accept()

    return app


def test_an_uncaught_disconnect_is_raised_when_the_session_ends() -> None:
    session = TestClient(echo_app(FastAPI())).websocket_connect("/echo")
    ws = session.__enter__()
    ws.send_text("hi")
    assert ws.receive_text() == "hi"
    with pytest.raises(WebSocketDisconnect) as info:
        session.__exit__(None, None, None)
    assert info.value.code == 1000


def test_a_caught_disconnect_ends_the_session_quietly() -> None:
    with TestClient(echo_app(FastAPI())).websocket_connect("/caught") as ws:
        ws.send_text("hi")


def test_trivium_apps_keep_the_disconnect_to_themselves() -> None:
    with TestClient(echo_app(App())).websocket_connect("/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"


def test_a_refused_handshake_is_a_websocket_disconnect() -> None:
    client = TestClient(echo_app(FastAPI()))
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/items/x"):
        pytest.fail("the handshake was refused")
    assert refused_with(info.value, 1008)
