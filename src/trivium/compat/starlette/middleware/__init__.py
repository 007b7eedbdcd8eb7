"""`starlette.middleware` on trivium: `Middleware(cls, **options)`."""

from __future__ import annotations

from trivium.middleware import Middleware

__all__ = ["Middleware"]
