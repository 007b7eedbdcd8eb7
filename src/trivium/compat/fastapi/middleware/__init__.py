"""`fastapi.middleware`: the `Middleware` item of `middleware=[...]`."""

from __future__ import annotations

from types import ModuleType

from trivium.compat._lazy import submodule
from trivium.middleware import Middleware

__all__ = [
    "Middleware",
]


def __getattr__(name: str) -> ModuleType:
    """Import a submodule (`fastapi.middleware.cors`) on first access."""
    return submodule(__name__, name)
