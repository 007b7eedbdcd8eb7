"""Decide, for one imported module path, whether trivium.compat has it and why not.

The answer is read from trivium.compat itself (does `trivium.compat.fastapi.security`
import, does it define `OAuth2PasswordBearer`), so the port command follows the compat
layer as it grows instead of a second hand-kept list. What cannot be read that way is
why a module is missing: private modules, FastAPI's internal helpers and third-party
plugins get a reason of their own.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import re
from types import ModuleType

__all__ = [
    "COMPAT_PREFIX",
    "SOURCES",
    "compat_module",
    "compat_name",
    "missing_module_reason",
    "plugin_reason",
]

COMPAT_PREFIX = "trivium.compat"
"""The package that mirrors FastAPI's and Starlette's public module paths."""

SOURCES = frozenset({"fastapi", "starlette"})
"""Top-level packages whose imports the port command rewrites."""

_INTERNAL = {
    "fastapi.dependencies": "FastAPI's dependency-resolution internals",
    "fastapi.openapi.constants": "FastAPI's internal OpenAPI constants",
    "fastapi.types": "FastAPI's internal type aliases",
    "fastapi.cli": "FastAPI's command line (use `trivium run`)",
    "starlette.config": "Starlette's config reader (use trivium settings)",
    "starlette.convertors": "Starlette's path convertors",
}
_TRIVIUM = COMPAT_PREFIX.partition(".")[0]
_PLUGIN_NAME = re.compile(r"(^|[._])(fastapi|starlette)([._]|$)")


def compat_name(module: str) -> str:
    """Return the trivium.compat path mirroring `module` (`fastapi.x` -> `trivium.compat.fastapi.x`)."""
    return f"{COMPAT_PREFIX}.{module}"


@functools.cache
def compat_module(module: str) -> ModuleType | None:
    """Return the imported trivium.compat mirror of `module`, or None when there is none."""
    target = compat_name(module)
    try:
        if importlib.util.find_spec(target) is None:
            return None
        return importlib.import_module(target)
    except ImportError:
        return None


def missing_module_reason(module: str) -> str:
    """Say why `module` (a fastapi/starlette path) has no trivium.compat mirror."""
    parts = module.split(".")
    if any(part.startswith("_") for part in parts):
        return f"{module} is a private module; trivium.compat mirrors public modules only"
    for prefix, what in _INTERNAL.items():
        if module == prefix or module.startswith(prefix + "."):
            return f"{module} is {what}, not public API; trivium.compat has no mirror of it"
    return f"trivium.compat has no module {compat_name(module)}"


def plugin_reason(module: str, local: frozenset[str] = frozenset()) -> str | None:
    """Say why `module` (not fastapi/starlette itself) is a FastAPI plugin, or None if it is not.

    A plugin is recognised by its name (`fastapi_users`, `strawberry.fastapi`,
    `starlette_exporter`) or, when installed, by a distribution that requires FastAPI or
    Starlette (`slowapi`, `sqladmin`). Top-level names in `local` (the project's own
    packages) are never plugins, nor is trivium itself: its `trivium.compat.fastapi` is
    what a ported import already points at, so porting twice reports nothing new.
    """
    top = module.partition(".")[0]
    if top in SOURCES or top in local or top == _TRIVIUM:
        return None
    if _PLUGIN_NAME.search(module):
        return (
            f"{module} is a third-party FastAPI/Starlette plugin; it keeps importing FastAPI "
            "itself: check it against trivium.compat or replace it"
        )
    requires = _requirers().get(top)
    if requires:
        return (
            f"{module} is a third-party package built on {requires} (installed distribution "
            "requires it); it keeps importing FastAPI/Starlette: check it against "
            "trivium.compat or replace it"
        )
    return None


@functools.cache
def _requirers() -> dict[str, str]:
    """Map installed top-level modules to 'fastapi' or 'starlette' when their distribution needs it."""
    found: dict[str, str] = {}
    for top, dists in importlib.metadata.packages_distributions().items():
        if top in SOURCES or top.startswith("_"):
            continue
        for dist in dists:
            needed = _needs_source(dist)
            if needed:
                found[top] = needed
                break
    return found


def _needs_source(dist: str) -> str | None:
    try:
        requires = importlib.metadata.requires(dist) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for requirement in requires:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower()
        if name in SOURCES:
            return name
    return None
