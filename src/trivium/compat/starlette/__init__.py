"""`starlette` on trivium: Starlette's public modules, as trivium's own objects."""

from __future__ import annotations

from trivium import status

__all__ = ["status"]
