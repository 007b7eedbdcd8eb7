"""`trivium settings`: print every setting, where it came from, secrets redacted."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from trivium.cli import APP_ENV
from trivium.cli import load_app
from trivium.conf._origins import origins
from trivium.conf._settings import Settings
from trivium.errors import ConfigurationError

__all__ = ["SETTINGS_ENV", "load_settings_class", "settings"]

SETTINGS_ENV = "TRIVIUM_SETTINGS"
"""The environment variable naming the project's settings class (`module:Class`)."""


def load_settings_class(target: str) -> type[Settings]:
    """Import `module:Class` and return it, checking it is a `Settings` subclass."""
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    module_name, _, attribute = target.strip().partition(":")
    if not module_name or not attribute:
        raise click.BadParameter(
            f"{target!r} is not an import string; write 'module:Settings'", param_hint="TARGET"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any failure of the user's module is reported
        raise click.ClickException(
            f"importing {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from None
    found: Any = getattr(module, attribute, None)
    if not (isinstance(found, type) and issubclass(found, Settings)):
        raise click.ClickException(f"{target!r} is not a subclass of trivium.conf.Settings")
    return found


@click.command("settings")
@click.argument("target", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def settings(target: str | None, as_json: bool) -> None:
    """Print every setting with where it came from (secrets redacted).

    TARGET is the settings class, `module:Settings` (default: $TRIVIUM_SETTINGS; else the
    settings installed on the app named by $TRIVIUM_APP; else trivium.conf:Settings).
    Sources: init, env, .env file, secrets dir, default.
    """
    target = target or os.environ.get(SETTINGS_ENV)
    try:
        instance = _installed() if target is None else None
        if instance is None:
            target = target or "trivium.conf:Settings"
            instance = load_settings_class(target)()
        else:
            target = f"{os.environ[APP_ENV]} (its installed settings)"
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    rows = origins(instance)
    if as_json:
        import json

        click.echo(json.dumps([_row(row) for row in rows], indent=2))
        return
    width = max(len(row.name) for row in rows)
    value_width = min(max(len(row.value) for row in rows), 48)
    click.echo(f"# {target} (env: {instance.env})")
    for row in rows:
        click.echo(f"{row.name:<{width}}  {row.value:<{value_width}}  {row.source}")


def _installed() -> Settings | None:
    """Return the settings installed on the app named by $TRIVIUM_APP, if any."""
    app_target = os.environ.get(APP_ENV)
    if not app_target:
        return None
    found = load_app(app_target).plugins_of(Settings)
    return found[0] if found else None


def _row(row: Any) -> dict[str, str]:
    return {"name": row.name, "value": row.value, "source": row.source, "variable": row.variable}
