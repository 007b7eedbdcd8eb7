"""`fastapi.encoders`: `jsonable_encoder`."""

from __future__ import annotations

from trivium.encoders import jsonable_encoder

__all__ = [
    "jsonable_encoder",
]
