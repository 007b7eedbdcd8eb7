"""`fastapi.websockets`: the websocket connection."""

from __future__ import annotations

from trivium.http import WebSocket
from trivium.http import WebSocketDisconnect
from trivium.http._websocket import WebSocketState

__all__ = [
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketState",
]
