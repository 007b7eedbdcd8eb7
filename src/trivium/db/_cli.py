"""`trivium db`: make, apply and inspect migrations of an app's database.

The app is imported (never started: its lifespan does not run) to find its `Database`
plugins (`app.plugins_of(Database)`); the commands use the engine of the one picked
directly and dispose of it before exiting. The app is built first, so the plugins that
install the database or add migrations (`Auth`) have done so.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import TypeVar

import anyio
import click

from trivium.cli import APP_ENV
from trivium.cli import load_app
from trivium.db._migrations import MigrationError
from trivium.db._migrations import MigrationFailedError
from trivium.db._migrations import Migrations
from trivium.db._migrations import NotNullColumn
from trivium.db._migrations import RenameCandidate
from trivium.db._migrations import Revision
from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from trivium.db._database import Database

__all__ = ["db"]

_T = TypeVar("_T")
_F = TypeVar("_F", bound=Callable[..., object])


@dataclasses.dataclass(slots=True)
class _Target:
    app: str | None
    database: str | None


def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Store `--app`/`--database` given after the subcommand on the group's target."""
    if value is not None:
        target = ctx.find_object(_Target)
        if target is not None:
            setattr(target, "app" if param.name == "app_target" else "database", value)
    return value


def _target_options(*, group: bool) -> Callable[[_F], _F]:
    """`--app` and `--database`, accepted before the subcommand (`group`) and after it."""

    def decorate(function: _F) -> _F:
        app = click.option(
            "--app",
            "app_target",
            envvar=APP_ENV if group else None,
            metavar="MODULE:APP",
            expose_value=group,
            callback=None if group else _remember,
            help=f"The app whose database to migrate.  [default: ${APP_ENV}]",
        )
        database = click.option(
            "--database",
            "database_name",
            metavar="NAME",
            expose_value=group,
            callback=None if group else _remember,
            help="Which of the app's databases (its Database(name=...)).  [default: the only one]",
        )
        return app(database(function))

    return decorate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@_target_options(group=True)
@click.pass_context
def db(ctx: click.Context, app_target: str | None, database_name: str | None) -> None:
    """Manage the database and its migrations.

    --app and --database may be given before or after the subcommand.
    """
    ctx.obj = _Target(app_target, database_name)


def _database(target: _Target) -> Database:
    if not target.app:
        raise click.UsageError(f"name the app with --app module:app (or set {APP_ENV})")
    from trivium.db._database import Database

    app = load_app(target.app)
    app.build()
    databases: dict[str, Database] = {d.name: d for d in app.plugins_of(Database)}
    if not databases:
        raise click.ClickException(
            f"{target.app!r} has no database; bind one with db.init_app(app) in its module"
        )
    names = ", ".join(sorted(databases))
    if target.database is None:
        if len(databases) == 1:
            return next(iter(databases.values()))
        if "default" in databases:
            return databases["default"]
        raise click.UsageError(f"the app has several databases ({names}); pick one with --database")
    if target.database not in databases:
        raise click.UsageError(
            f"the app has no database named {target.database!r} (it has {names})"
        )
    return databases[target.database]


def _run(ctx: click.Context, action: Callable[[Migrations], Awaitable[_T]]) -> _T:
    """Run `action` on the selected database's migrations, then dispose of its engine."""
    database = _database(ctx.find_object(_Target) or _Target(None, None))

    async def main() -> _T:
        migrations = Migrations(database)
        migrations.on_lock_wait = _waiting
        try:
            return await action(migrations)
        finally:
            await database.dispose()

    try:
        return anyio.run(main)
    except MigrationFailedError as exc:
        verb = "Reverted" if ctx.info_name == "downgrade" else "Applied"
        for step in exc.done:
            click.echo(f"{verb} {_line(step)}")
        raise click.ClickException(str(exc)) from None
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from None
    except ConfigurationError as exc:
        raise click.ClickException(exc.one_line()) from None
    except Exception as exc:
        problem = database.connect_problem(exc)
        if problem is None:
            raise
        raise click.ClickException(problem.one_line()) from None


def _waiting() -> None:
    click.echo("Another migration of this database is running; waiting for it to finish...")


def _line(revision: Revision) -> str:
    labels = f" ({', '.join(revision.branch_labels)})" if revision.branch_labels else ""
    head = " [head]" if revision.is_head else ""
    return f"{revision.id}{labels}{head} {revision.message}"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _renames(values: tuple[str, ...]) -> dict[str, str]:
    renames = {}
    for value in values:
        old, sep, new = value.partition(":")
        if not sep or "." not in old or not new:
            raise click.BadParameter(
                f"{value!r}: give TABLE.OLD:NEW, e.g. articles.name:title", param_hint="--rename"
            )
        renames[old] = new
    return renames


def _defaults(values: tuple[str, ...]) -> dict[str, str]:
    defaults = {}
    for value in values:
        key, sep, sql = value.partition("=")
        if not sep or "." not in key or not sql.strip():
            raise click.BadParameter(
                f"{value!r}: give TABLE.COLUMN=SQL, e.g. posts.status=\"'draft'\"",
                param_hint="--default",
            )
        defaults[key] = sql.strip()
    return defaults


def _message(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse an empty or blank `-m`: the message names the revision file."""
    del ctx
    if value is not None and not value.strip():
        raise click.BadParameter("give a message, which names the revision file", param=param)
    return value.strip() if value is not None else None


def _ask_default(column: NotNullColumn) -> str:
    if column.existing:
        click.echo(
            f"Column {column.key} ({column.type}) becomes NOT NULL, and the rows of "
            f"{column.table} where it is NULL need a value."
        )
    else:
        click.echo(
            f"Column {column.key} ({column.type}) is NOT NULL without a server default, and "
            f"the rows {column.table} already has need a value."
        )
    value: str = click.prompt(
        "One-off default for them (an SQL expression: 0, 'draft', CURRENT_TIMESTAMP)"
    )
    return value


def _ask(candidate: RenameCandidate) -> bool:
    return click.confirm(
        f"Was {candidate.key} renamed to {candidate.new} ({candidate.type})? "
        "Answering no drops the column and its data",
        default=False,
    )


@db.command()
@_target_options(group=False)
@click.option(
    "-m",
    "--message",
    required=True,
    callback=_message,
    help="What the migration does; names the file.",
)
@click.option(
    "--empty", is_flag=True, help="Write a revision without operations (data migrations)."
)
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="TABLE.OLD:NEW",
    help="Write this dropped-and-added column pair as a rename (repeatable).",
)
@click.option(
    "--drop",
    "drops",
    multiple=True,
    metavar="TABLE.COLUMN",
    help="This column is really dropped, with its data, not renamed (repeatable).",
)
@click.option(
    "--default",
    "defaults",
    multiple=True,
    metavar="TABLE.COLUMN=SQL",
    help="One-off value filling the existing rows of a column that becomes NOT NULL (repeatable).",
)
@click.option(
    "--no-input",
    is_flag=True,
    help="Never ask: an undecided rename or default is an error.  [default: ask on a terminal]",
)
@click.pass_context
def makemigrations(  # noqa: PLR0913 - one parameter per option
    ctx: click.Context,
    message: str,
    empty: bool,
    renames: tuple[str, ...],
    drops: tuple[str, ...],
    defaults: tuple[str, ...],
    no_input: bool,
) -> None:
    """Write a migration for the changes between the models and the migration files.

    No database connection is needed: the revision files are replayed on a scratch
    SQLite database when the app's database is SQLite, unreachable or behind its files.

    A column dropped while another of the same type is added to its table may be a
    rename: you are asked (on a terminal), or decide with --rename or --drop. A NOT NULL
    column added to an existing table, or a column made NOT NULL, needs a one-off value
    for the rows it has: you are asked, or give it with --default.
    """
    interactive = not no_input and sys.stdin.isatty()
    created = _run(
        ctx,
        lambda migrations: migrations.makemigrations(
            message,
            empty=empty,
            renames=_renames(renames),
            drops=drops,
            ask=_ask if interactive else None,
            defaults=_defaults(defaults),
            ask_default=_ask_default if interactive else None,
        ),
    )
    if created is None:
        click.echo("No changes detected.")
    else:
        click.echo(f"Created {_shown(created.path)}")


@db.command()
@_target_options(group=False)
@click.option(
    "-m",
    "--message",
    default="merge heads",
    show_default=True,
    callback=_message,
    help="What the merge revision says; names the file.",
)
@click.pass_context
def merge(ctx: click.Context, message: str) -> None:
    """Write a revision merging the heads of the project's migrations into one.

    Two branches of migrations (two developers each adding a revision) leave two heads;
    makemigrations and check refuse to go on until they are merged.
    """
    created = _run(ctx, lambda migrations: migrations.merge(message))
    click.echo(f"Created {_shown(created.path)}")


@db.command()
@_target_options(group=False)
@click.argument("revision", default="heads")
@click.pass_context
def migrate(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION (default: all of them)."""
    applied = _run(ctx, lambda migrations: migrations.migrate(revision))
    for step in applied:
        click.echo(f"Applied {_line(step)}")
    if not applied:
        click.echo("No migrations to apply.")


@db.command(context_settings={"ignore_unknown_options": True})  # so "-1" is an argument
@_target_options(group=False)
@click.argument("revision")
@click.option(
    "--cascade",
    is_flag=True,
    help="Also revert the project revisions that depend on a battery revision reverted.",
)
@click.pass_context
def downgrade(ctx: click.Context, revision: str, cascade: bool) -> None:
    """Revert migrations down to REVISION: an id, -1 (the latest), or base (all).

    With several heads applied, -1 is ambiguous: name the revision instead. A battery's
    revision (auth@-1) that project revisions depend on needs --cascade.
    """
    reverted = _run(ctx, lambda migrations: migrations.downgrade(revision, cascade=cascade))
    for step in reverted:
        click.echo(f"Reverted {_line(step)}")
    if not reverted:
        click.echo("No migrations to revert.")


@db.command()
@_target_options(group=False)
@click.pass_context
def history(ctx: click.Context) -> None:
    """List the migrations, newest first; [X] marks the applied ones."""
    revisions = _run(ctx, lambda migrations: migrations.history())
    for revision in revisions:
        click.echo(f"[{'X' if revision.applied else ' '}] {_line(revision)}")
    if not revisions:
        click.echo("No migrations yet; write one with: trivium db makemigrations -m MESSAGE")


@db.command()
@_target_options(group=False)
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the revision(s) the database is at."""
    revisions = _run(ctx, lambda migrations: migrations.current())
    for revision in revisions:
        click.echo(_line(revision))
    if not revisions:
        click.echo("No migrations applied.")


@db.command()
@_target_options(group=False)
@click.pass_context
def check(ctx: click.Context) -> None:
    """Exit with status 1 when a migration must be written or applied.

    "Write a migration" (the models and the migration files differ) and "apply pending
    migrations" (the database is behind the files) are reported separately.
    """

    async def both(migrations: Migrations) -> tuple[list[str], list[str] | None]:
        changes = await migrations.changes()
        try:
            pending: list[str] | None = await migrations.pending(strict=True)
        except Exception as exc:
            problem = migrations.db.connect_problem(exc)
            if problem is None:
                raise
            click.echo(f"Could not check the applied migrations: {problem}")
            pending = None
        return changes, pending

    changes, pending = _run(ctx, both)
    if changes:
        click.echo("The models and the migration files differ:")
        for difference in changes:
            click.echo(f"  - {difference}")
        click.echo("Write a migration with: trivium db makemigrations -m MESSAGE")
    if pending:
        click.echo(f"The database has not applied: {', '.join(pending)}")
        click.echo("Apply the pending migrations with: trivium db migrate")
    if changes or pending or pending is None:
        ctx.exit(1)
    click.echo("No changes detected.")
