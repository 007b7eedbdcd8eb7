"""`starlette.exceptions`: HTTP and websocket exceptions."""

from __future__ import annotations

from trivium.errors import HTTPException
from trivium.errors import WebSocketException

__all__ = [
    "HTTPException",
    "WebSocketException",
]
