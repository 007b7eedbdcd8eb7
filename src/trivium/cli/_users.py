"""`trivium createsuperuser` and `trivium changepassword`: trivium.auth's commands, as listed.

The commands are `trivium.auth`'s own, found by import path like every battery command. One failure is completed here: they report a
database without the `auth_user` table with "run `trivium db migrate`", which is the fix
for an app whose migrations create it (it installs `Auth`, or includes trivium.auth's
migrations) and no fix at all for an app without trivium.auth (`trivium new --no-auth`):
migrating never creates the table there, so such an app is told to install `Auth`.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import click

from trivium.auth import Auth
from trivium.cli._loader import load_app
from trivium.cli._main import LazyCommand
from trivium.cli._main import LazyGroup
from trivium.db import Database

__all__ = ["changepassword", "createsuperuser"]

_AUTH_PACKAGE = "trivium.auth"


def _migrations_create_users(app: Any) -> bool:
    """Return whether migrating the app creates the users' table (trivium.auth's migrations)."""
    if app.plugins_of(Auth):
        return True
    return any(_AUTH_PACKAGE in db.migration_locations for db in app.plugins_of(Database))


def _with_auth_hint(command: click.Command) -> click.Command:
    callback = command.callback
    if callback is None:  # pragma: no cover - both commands have one
        return command

    @functools.wraps(callback)
    def run(**params: Any) -> Any:
        try:
            return callback(**params)
        except click.ClickException as exc:
            target = params.get("target")
            if "auth_user" not in exc.message or not target:
                raise
            if _migrations_create_users(load_app(target)):
                raise
            raise click.ClickException(
                f"{target} does not install trivium.auth, so no migration creates its "
                "auth_user table: add it to the app (app.install(Auth(db, secret_key=...)), "
                "see docs/auth.md), then run `trivium db migrate`"
            ) from None

    wrapped = copy.copy(command)
    wrapped.callback = run
    return wrapped


def _auth_command(name: str) -> click.Command:
    """Return trivium.auth's command `name`, found by import path as `BATTERY_COMMANDS` does."""
    return LazyGroup._import(name, LazyCommand(f"trivium.auth._cli:{name}", ""))


createsuperuser = _with_auth_hint(_auth_command("createsuperuser"))
changepassword = _with_auth_hint(_auth_command("changepassword"))
