"""`starlette.types`: the ASGI type aliases."""

from __future__ import annotations

from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = [
    "ASGIApp",
    "Message",
    "Receive",
    "Scope",
    "Send",
]
