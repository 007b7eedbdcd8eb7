"""`starlette`: the package; its modules are `trivium.compat.starlette.*`."""

from __future__ import annotations

from trivium.compat.starlette import status

__version__ = "0.46.0"
"""The Starlette version whose public API this package follows."""

__all__ = [
    "status",
]
