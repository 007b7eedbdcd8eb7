"""`fastapi.middleware.cors` on trivium."""

from __future__ import annotations

from trivium.middleware import CORSMiddleware

__all__ = ["CORSMiddleware"]
