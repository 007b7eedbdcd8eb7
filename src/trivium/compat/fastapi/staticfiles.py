"""`fastapi.staticfiles`: serve a directory of files (Starlette's directory redirect)."""

from __future__ import annotations

from trivium.compat.starlette.staticfiles import StaticFiles

__all__ = [
    "StaticFiles",
]
