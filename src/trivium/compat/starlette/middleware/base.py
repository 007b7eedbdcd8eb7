"""`starlette.middleware.base` on trivium: `BaseHTTPMiddleware` with `dispatch(request, call_next)`."""

from __future__ import annotations

from trivium.middleware import BaseHTTPMiddleware

__all__ = ["BaseHTTPMiddleware"]
