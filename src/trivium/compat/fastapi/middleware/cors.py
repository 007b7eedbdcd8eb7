"""`fastapi.middleware.cors`: Starlette's CORS middleware (see `trivium.compat.starlette.middleware.cors`)."""

from __future__ import annotations

from trivium.compat.starlette.middleware.cors import CORSMiddleware

__all__ = [
    "CORSMiddleware",
]
