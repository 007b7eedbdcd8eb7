"""Find the user's app from an import string, for commands that work on an app.

`trivium openapi`, `trivium db` and the auth commands take `module:app` (or
`module:factory()`); the `TRIVIUM_APP` environment variable is the default, so a project
can set it once.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["APP_ENV", "load_app"]

APP_ENV = "TRIVIUM_APP"
"""The environment variable commands read when no app is given."""


def load_app(target: str) -> Any:
    """Import `module:attribute` (or `module:factory()`) and return the app it names.

    The working directory is put on `sys.path` first, as `python -m` would.
    """
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    module_name, _, attribute = target.strip().partition(":")
    factory = attribute.endswith("()")
    attribute = attribute.removesuffix("()")
    parts = [*module_name.split("."), *attribute.split(".")]
    if not attribute or not all(part.isidentifier() for part in parts):
        raise click.BadParameter(
            f"{target!r} is not an import string; write 'module:app' (or 'module:factory()')",
            param_hint="TARGET",
        )
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any failure of the user's module is reported
        raise click.ClickException(
            f"importing {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from None
    for name in attribute.split("."):
        if not hasattr(found, name):
            raise click.ClickException(f"module {module_name!r} has no attribute {attribute!r}")
        found = getattr(found, name)
    if factory:
        found = found()
    if not callable(getattr(found, "openapi", None)):
        raise click.ClickException(
            f"{target!r} is {type(found).__name__}, not a trivium App (it has no openapi())"
        )
    return found
