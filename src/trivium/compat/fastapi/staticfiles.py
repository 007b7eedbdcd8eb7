"""`fastapi.staticfiles`: serve a directory of files."""

from __future__ import annotations

from trivium.staticfiles import StaticFiles

__all__ = [
    "StaticFiles",
]
