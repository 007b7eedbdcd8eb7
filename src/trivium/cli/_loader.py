"""Find the user's app from an import string, for commands that work on an app.

`trivium openapi`, `trivium db` and the auth commands take `module:app` (or
`module:factory()`); the `TRIVIUM_APP` environment variable is the default, so a project
can set it once.

Whatever the user's module or factory raises becomes one line (`click.ClickException`),
never a traceback: a `ConfigurationError` (invalid settings, say) keeps its own code and
message, anything else is named with the factory or module it came from, with the same
codes and wording as `trivium run`.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Any

import click

from trivium.errors import ConfigurationError
from trivium.errors import describe_exception

__all__ = ["APP_ENV", "load_app"]

APP_ENV = "TRIVIUM_APP"
"""The environment variable commands read when no app is given."""


def load_app(target: str) -> Any:
    """Import `module:attribute` (or `module:factory()`) and return the app it names.

    The working directory is put on `sys.path` first, as `python -m` would.

    Raises:
        click.ClickException: the module, the attribute or the factory failed, or what
            they name is not a trivium app; one line with a `[code]`.
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
    except ConfigurationError as exc:
        raise click.ClickException(exc.one_line()) from None
    except Exception as exc:  # noqa: BLE001 - any failure of the user's module is reported
        raise _failed(f"importing {module_name!r} raised {_describe(exc)}") from None
    for name in attribute.split("."):
        if not hasattr(found, name):
            raise click.ClickException(
                f"[server.attribute-missing] module {module_name!r} has no attribute "
                f"{attribute!r}; name the variable that holds the app, as in '{module_name}:app'"
            )
        found = getattr(found, name)
    if factory:
        found = _call_factory(found, target, attribute)
    if not callable(getattr(found, "openapi", None)):
        raise click.ClickException(f"[server.not-an-app] {_not_an_app(found, target, factory)}")
    return found


def _call_factory(function: Any, target: str, attribute: str) -> Any:
    if not callable(function):
        raise click.ClickException(
            f"[server.not-an-app] {target!r} calls {attribute!r}, which is not a function; "
            "drop the '()'"
        )
    try:
        return function()
    except ConfigurationError as exc:
        raise click.ClickException(exc.one_line()) from None
    except Exception as exc:  # noqa: BLE001 - any failure of the user's factory is reported
        raise _failed(f"the factory {target!r} raised {_describe(exc)}") from None


def _not_an_app(found: Any, target: str, factory: bool) -> str:
    if not factory and (inspect.isfunction(found) or inspect.isclass(found)):
        kind = "class" if inspect.isclass(found) else "function"
        return f"{target!r} is a {kind}, not an app: did you mean '{target.strip()}()'?"
    return f"{target!r} is {type(found).__name__}, not a trivium App (it has no openapi())"


def _failed(message: str) -> click.ClickException:
    return click.ClickException(f"[server.import-failed] {message}")


def _describe(exc: BaseException) -> str:
    """Name the exception and where the user's code raised it (see `describe_exception`)."""
    return describe_exception(exc)
