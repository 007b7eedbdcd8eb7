"""`trivium createsuperuser` and `trivium changepassword`: manage users from a shell.

Both commands find the app from `--app` (or `TRIVIUM_APP`) and use its auth database:
the database of the app's `Auth` plugin when one is installed, else the app's
`Database` plugin (the one named "default" when it has several). Passwords are read hidden, twice, and
checked with the app's password validators (`Auth(password_validators=...)` or the
defaults); a refused password is asked again, up to three times.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import TypeVar

import anyio
import click
from sqlalchemy.ext.asyncio import AsyncSession

from trivium.auth._identity import EMAIL_MAX
from trivium.auth._identity import USERNAME_MAX
from trivium.auth._identity import username_text_error
from trivium.auth._models import AbstractUser
from trivium.auth._models import User
from trivium.auth._models import create_superuser as create_superuser_row
from trivium.auth._models import get_user_by_identifier
from trivium.auth._models import normalize_email
from trivium.auth._models import normalize_username
from trivium.auth._models import set_password
from trivium.auth._validators import DEFAULT_VALIDATORS
from trivium.auth._validators import PasswordValidationError
from trivium.auth._validators import PasswordValidator
from trivium.auth._validators import UserLike
from trivium.auth._validators import validate_password
from trivium.cli import APP_ENV
from trivium.cli import load_app
from trivium.db import Database

__all__ = ["PASSWORD_ENV", "changepassword", "createsuperuser"]

PASSWORD_ENV = "TRIVIUM_SUPERUSER_PASSWORD"  # noqa: S105 - the variable's name, not a secret
"""The environment variable `createsuperuser --no-input` reads the password from."""

T = TypeVar("T")

MAX_ATTEMPTS = 3
_AUTH_PACKAGE = "trivium.auth"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_app_option = click.option(
    "--app",
    "target",
    envvar=APP_ENV,
    metavar="MODULE:APP",
    help=f"The app, as 'module:app' or 'module:factory()'.  [env: {APP_ENV}]",
)


class _AuthSetup:
    """What the commands need from the app: database, user model, validators."""

    def __init__(self, target: str | None) -> None:
        if not target:
            raise click.UsageError(f"give the app with --app module:app (or set {APP_ENV})")
        self.target = target
        app = load_app(target)
        from trivium.auth._auth import Auth

        auths = app.plugins_of(Auth)
        auth: Auth | None = auths[0] if auths else None
        db: Database | None = auth.db if auth is not None else None
        if db is None:
            databases = app.plugins_of(Database)
            named = [d for d in databases if d.name == "default"] or databases[:1]
            db = named[0] if named else None
        if db is None:
            raise click.ClickException(
                f"{target} has no database: install trivium.auth.Auth(db, ...) or bind one "
                "with Database(...).init_app(app)"
            )
        self.db: Database = db
        from trivium.auth._auth import Auth

        self.auth: Auth | None = auth if isinstance(auth, Auth) else None
        model: Any = getattr(auth, "user_model", None)
        self.model: type[AbstractUser] = model if isinstance(model, type) else User
        validators: Any = getattr(auth, "password_validators", None)
        self.validators: Sequence[PasswordValidator] = (
            DEFAULT_VALIDATORS if validators is None else validators
        )

    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `await work(session)` with a session, committing it, then dispose the engine."""

        async def main() -> T:
            try:
                async with self.db.sessionmaker() as session:
                    result = await work(session)
                    await session.commit()
                    return result
            finally:
                await self.db.dispose()

        from sqlalchemy.exc import OperationalError
        from sqlalchemy.exc import ProgrammingError

        try:
            return anyio.run(main)
        except Exception as exc:
            missing = isinstance(exc, OperationalError | ProgrammingError)
            if missing and "auth_user" in str(exc):
                raise click.ClickException(self._no_users_table()) from None
            problem = self.db.connect_problem(exc)  # a server down, a refused login...
            if problem is None:
                raise
            raise click.ClickException(problem.one_line()) from None

    def _no_users_table(self) -> str:
        """Say how to create the missing `auth_user` table, for this app."""
        if self.auth is not None or _AUTH_PACKAGE in self.db.migration_locations:
            # A new project: the migrations that create the table are not applied yet.
            return (
                "the database has no auth_user table yet: run `trivium db migrate` (or start "
                "an app that creates its tables) first"
            )
        # Migrating never creates the table in an app without trivium.auth.
        return (
            f"{self.target} does not install trivium.auth, so no migration creates its "
            "auth_user table: add it to the app (app.install(Auth(db, secret_key=...)), "
            "see docs/auth.md), then run `trivium db migrate`"
        )


def _check(password: str, user: UserLike, validators: Sequence[PasswordValidator]) -> bool:
    try:
        validate_password(password, user, validators)
    except PasswordValidationError as exc:
        for message in exc.messages:
            click.echo(f"Error: {message}", err=True)
        return False
    return True


def _prompt_password(user: UserLike, validators: Sequence[PasswordValidator]) -> str:
    """Ask for a password (hidden, twice) until it passes the validators, or give up."""
    for _ in range(MAX_ATTEMPTS):
        password: str = click.prompt(
            "Password",
            hide_input=True,
            confirmation_prompt="Password (again)",
            prompt_suffix=": ",
        )
        if _check(password, user, validators):
            return password
    raise click.ClickException(f"no acceptable password after {MAX_ATTEMPTS} attempts")


def _identifiers(
    email: str | None, username: str | None, no_input: bool
) -> tuple[str | None, str | None]:
    """Return the new superuser's (e-mail, username), asking for them if allowed."""
    if not no_input and not email and not username:
        email = click.prompt("Email address", default="", show_default=False) or None
        username = click.prompt("Username (optional)", default="", show_default=False) or None
    # Normalised first (as they are stored): NFKC can make text longer than its column.
    email = (normalize_email(email) or None) if email else None
    typed = username
    username = (normalize_username(username) or None) if username else None
    if email is None and username is None:
        raise click.UsageError("give the superuser an --email or a --username (or both)")
    problem = username_text_error(typed) if typed and username else None
    if problem is not None:
        raise click.BadParameter(problem, param_hint="--username")
    if email is not None and not _EMAIL.match(email):
        raise click.BadParameter(f"{email!r} is not an e-mail address", param_hint="--email")
    if email is not None and len(email) > EMAIL_MAX:
        raise click.BadParameter(_too_long(email, EMAIL_MAX), param_hint="--email")
    if username is not None and len(username) > USERNAME_MAX:
        raise click.BadParameter(_too_long(username, USERNAME_MAX), param_hint="--username")
    return email, username


def _too_long(value: str, limit: int) -> str:
    return (
        f"at most {limit} characters once normalised (Unicode NFKC and case folding); "
        f"this one has {len(value)}"
    )


async def _taken(
    session: AsyncSession, model: type[AbstractUser], email: str | None, username: str | None
) -> str | None:
    for value in (email, username):
        if value is not None and await get_user_by_identifier(session, value, model=model):
            return value
    return None


@click.command("createsuperuser")
@_app_option
@click.option("--email", envvar="TRIVIUM_SUPERUSER_EMAIL", help="The superuser's e-mail.")
@click.option("--username", envvar="TRIVIUM_SUPERUSER_USERNAME", help="The superuser's name.")
@click.option(
    "--no-input",
    is_flag=True,
    help=f"Ask nothing: the password comes from {PASSWORD_ENV}.",
)
def createsuperuser(
    target: str | None, email: str | None, username: str | None, no_input: bool
) -> None:
    """Create a user with every permission (staff and superuser).

    The password is asked for twice (hidden) and checked with the app's password rules;
    with --no-input it is read from the TRIVIUM_SUPERUSER_PASSWORD environment variable.
    """
    setup = _AuthSetup(target)
    email, username = _identifiers(email, username, no_input)
    model = setup.model
    taken = setup.run(lambda session: _taken(session, model, email, username))
    if taken is not None:
        raise click.ClickException(f"a user {taken!r} already exists")
    attributes = {"email": email, "username": username}
    if no_input:
        password = os.environ.get(PASSWORD_ENV, "")
        if not password:
            raise click.ClickException(f"--no-input needs the password in ${PASSWORD_ENV}")
        if not _check(password, attributes, setup.validators):
            raise click.ClickException(f"the password in ${PASSWORD_ENV} was refused")
    else:
        password = _prompt_password(attributes, setup.validators)

    async def create(session: AsyncSession) -> str:
        user = await create_superuser_row(
            session, email=email, username=username, password=password, model=model
        )
        return user.identifier

    click.echo(f"Superuser {setup.run(create)!r} created.")


@click.command("changepassword")
@click.argument("identifier", metavar="USERNAME_OR_EMAIL")
@_app_option
def changepassword(identifier: str, target: str | None) -> None:
    """Set the password of the user with this username or e-mail.

    The new password is asked for twice (hidden) and checked with the app's password rules.
    """
    setup = _AuthSetup(target)
    model = setup.model

    async def find(session: AsyncSession) -> dict[str, Any] | None:
        user = await get_user_by_identifier(session, identifier, model=model)
        if user is None:
            return None
        return {"id": user.id, "email": user.email, "username": user.username}  # type: ignore[attr-defined]

    found = setup.run(find)
    if found is None:
        raise click.ClickException(f"no user has the username or e-mail {identifier!r}")
    click.echo(f"Changing the password of {found['username'] or found['email']!r}")
    password = _prompt_password(found, setup.validators)

    async def change(session: AsyncSession) -> None:
        user = await session.get(model, found["id"])
        if user is None:
            raise click.ClickException(f"user {identifier!r} was deleted meanwhile")
        if setup.auth is not None:  # the app's own revoke_on_password_change
            await setup.auth.set_password(session, user, password)
        else:
            await set_password(session, user, password)

    setup.run(change)
    click.echo("Password changed.")
