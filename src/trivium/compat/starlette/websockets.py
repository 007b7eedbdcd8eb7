"""`starlette.websockets` on trivium."""

from __future__ import annotations

from trivium.http import WebSocket
from trivium.http import WebSocketDisconnect
from trivium.http import WebSocketState

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]
