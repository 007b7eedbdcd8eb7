"""Reach a mirrored package's submodules as attributes, importing each on first use.

`import fastapi` leaves `fastapi.responses`, `fastapi.security` and the other modules
FastAPI's `__init__` imports reachable as attributes, so ported code that reads
`fastapi.responses.JSONResponse` after `from trivium.compat import fastapi` must find them
too. Importing them all up front would make the package as heavy as FastAPI's; instead
each package's module `__getattr__` calls `submodule` and the import system then binds the
submodule on the package, so later reads never come back here.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["submodule"]


def submodule(package: str, name: str) -> ModuleType:
    """Import and return `package.name` for a package's module `__getattr__`.

    Raises:
        AttributeError: `name` is private or not a submodule of `package`, or the
            submodule failed to import (a missing extra, named in the message), as
            `getattr` and `hasattr` expect.
    """
    missing = f"module {package!r} has no attribute {name!r}"
    if name.startswith("_") or not name.isidentifier():
        raise AttributeError(missing)
    target = f"{package}.{name}"
    try:
        if importlib.util.find_spec(target) is None:
            raise AttributeError(missing)
        return importlib.import_module(target)
    except ImportError as exc:
        raise AttributeError(f"{missing} ({exc})") from exc
