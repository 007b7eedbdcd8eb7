"""`fastapi.middleware`: the `Middleware` item of `middleware=[...]`."""

from __future__ import annotations

from trivium.middleware import Middleware

__all__ = [
    "Middleware",
]
