"""`starlette.middleware.base`: `BaseHTTPMiddleware` and `call_next`."""

from __future__ import annotations

from trivium.middleware._base import BaseHTTPMiddleware
from trivium.middleware._base import CallNext as RequestResponseEndpoint
from trivium.middleware._base import DispatchFunction

__all__ = [
    "BaseHTTPMiddleware",
    "DispatchFunction",
    "RequestResponseEndpoint",
]
