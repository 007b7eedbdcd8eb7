"""`fastapi.staticfiles` on trivium."""

from __future__ import annotations

from trivium.staticfiles import StaticFiles

__all__ = ["StaticFiles"]
