"""`starlette`: the package; its modules are `trivium.compat.starlette.*`."""

from __future__ import annotations

from types import ModuleType

from trivium.compat._lazy import submodule
from trivium.compat.starlette import status

__version__ = "0.46.0"
"""The Starlette version whose public API this package follows."""

__all__ = [
    "status",
]


def __getattr__(name: str) -> ModuleType:
    """Import a submodule (`starlette.responses`) on first access."""
    return submodule(__name__, name)
