"""Pure ASGI middleware, composed once when the app starts."""

from __future__ import annotations

from trivium.middleware._stack import Middleware

__all__ = ["Middleware"]
