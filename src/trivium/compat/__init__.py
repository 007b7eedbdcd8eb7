"""FastAPI and Starlette compatibility: their public module paths over trivium.

`trivium.compat.fastapi` mirrors `fastapi`, `trivium.compat.starlette` mirrors
`starlette`, with FastAPI's defaults where trivium's own differ, so a port is a rename of
import lines (`trivium port fastapi PATH` does it). Nothing here is imported by trivium's
core; see docs/compat.md.
"""

from __future__ import annotations

__all__ = []
