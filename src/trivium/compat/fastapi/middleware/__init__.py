"""`fastapi.middleware` on trivium."""

from __future__ import annotations

from trivium.middleware import Middleware

__all__ = ["Middleware"]
