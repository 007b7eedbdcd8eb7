"""`fastapi.middleware.gzip`: compress responses."""

from __future__ import annotations

from trivium.middleware import GZipMiddleware

__all__ = [
    "GZipMiddleware",
]
