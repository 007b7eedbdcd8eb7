"""The port tests rewrite imports to trivium.compat modules, which must exist to be targets."""

from __future__ import annotations

import importlib.util

import pytest

COMPAT_MODULES = (
    "trivium.compat.fastapi",
    "trivium.compat.fastapi.security",
    "trivium.compat.starlette",
    "trivium.compat.starlette.status",
    "trivium.compat.starlette.middleware.base",
)


def _missing() -> list[str]:
    missing = []
    for name in COMPAT_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:
            found = False
        if not found:
            missing.append(name)
    return missing


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = _missing()
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"trivium.compat is not complete yet: no {', '.join(missing)}")
    for item in items:
        if "tests/port/" in item.nodeid or item.nodeid.startswith("port/"):
            item.add_marker(skip)
