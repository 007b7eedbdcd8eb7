"""`fastapi.openapi`: document helpers (`utils`, `docs`)."""

from __future__ import annotations

from types import ModuleType

from trivium.compat._lazy import submodule

__all__ = []


def __getattr__(name: str) -> ModuleType:
    """Import a submodule (`fastapi.openapi.docs`) on first access."""
    return submodule(__name__, name)
