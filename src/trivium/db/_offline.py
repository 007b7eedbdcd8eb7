"""Making migrations without the project's database, and the checks `makemigrations` adds.

Django writes migrations without a database: it replays the migration history. Trivium
does the same with Alembic by replaying the revision files on a scratch SQLite database
in a temporary folder and comparing the models with it. That is what `makemigrations`
compares against when the project's database is SQLite (the real file is never
touched), and for a server database that is unreachable or behind its revision files
(batteries' or the project's migrations not applied yet). A server database at its
latest revision is compared directly, which also finds type changes and new enum values.

Two checks complete Alembic's autogenerate:

- A `NOT NULL` column without a server default added to an existing table cannot be
  applied to a table with rows, nor can a nullable column be made `NOT NULL` while rows
  hold `NULL`. `makemigrations` asks for a one-off default (an SQL expression filling
  those rows: a server default dropped right after, or an `UPDATE` of the `NULL`s),
  takes it from `defaults`, or refuses with what to do.
- Tables that a battery's migrations create (`trivium_store`, `auth_user`...) are never
  written into the project's migrations, even when the models share one metadata.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy import DefaultClause
from sqlalchemy import text

from trivium.db._migrate_env import CONNECT_TIMEOUT
from trivium.errors import TriviumError

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext

    from trivium.db._database import Database

__all__ = [
    "AskDefault",
    "FillNullsOp",
    "MissingDefaultError",
    "NotNullColumn",
    "battery_tables",
    "fill_defaults",
    "scratch_database",
]

_CREATE_TABLE = re.compile(r"create_table\(\s*[\"']([A-Za-z0-9_]+)[\"']")


class MissingDefaultError(TriviumError):
    """A NOT NULL column is added to an existing table and nobody gave a one-off default."""


class NotNullColumn:
    """A `NOT NULL` column without a value for the rows its table already has.

    Either added to an existing table without a server default, or an existing
    nullable column made `NOT NULL` (`existing`), whose `NULL` rows need a value.
    """

    __slots__ = ("column", "existing", "table", "type")

    def __init__(self, table: str, column: str, type_: str, *, existing: bool = False) -> None:
        self.table = table
        """The table."""
        self.column = column
        """The column."""
        self.type = type_
        """Its SQL type."""
        self.existing = existing
        """Whether the column exists and becomes `NOT NULL` (else it is added)."""

    @property
    def key(self) -> str:
        """`table.column`, as `defaults` names it."""
        return f"{self.table}.{self.column}"


AskDefault = Callable[[NotNullColumn], str]
"""Asked for a one-off default of a column (an SQL expression such as `0` or `'draft'`)."""


class FillNullsOp(ops.MigrateOperation):
    """Set a column's `NULL` values to an SQL expression (before it becomes `NOT NULL`)."""

    def __init__(self, table: str, column: str, value: str, schema: str | None) -> None:
        self.table = table
        self.column = column
        self.value = value
        self.schema = schema

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("fill_nulls", self.table, self.column, self.value)


@renderers.dispatch_for(FillNullsOp)
def _render_fill_nulls(autogen_context: AutogenContext, op: FillNullsOp) -> list[str]:
    del autogen_context
    table = f"sa.table({op.table!r}, sa.column({op.column!r}), schema={op.schema!r})"
    return [
        f"table = {table}",
        f"op.execute(table.update().where(table.c[{op.column!r}].is_(None))"
        f".values({{{op.column!r}: sa.text({op.value!r})}}))",
    ]


def fill_defaults(
    upgrade: ops.UpgradeOps, defaults: Mapping[str, str], ask: AskDefault | None
) -> None:
    """Give the existing rows a value for each column that becomes `NOT NULL`.

    A NOT NULL column added to an existing table without a server default is added
    with `server_default=sa.text(DEFAULT)`, which fills the rows the table has, and the
    default is dropped right after (`alter_column(..., server_default=None)`), so the
    model's own (Python-side) default stays the only one. A nullable column made NOT
    NULL gets an `UPDATE ... SET column = DEFAULT WHERE column IS NULL` before the
    table is altered.

    Raises:
        MissingDefaultError: a column has no default in `defaults` and `ask` is `None`,
            or `defaults` names a column that is not such a column.
    """
    used: set[str] = set()
    result: list[ops.MigrateOperation] = []
    for table in upgrade.ops:
        if not isinstance(table, ops.ModifyTableOps):
            result.append(table)
            continue
        result += _filled_nulls(table, defaults, ask, used)
        result.append(table)
        drops = _added_with_defaults(table, defaults, ask, used)
        if drops:
            # A step of its own: SQLite's batch mode rebuilds the table once per step,
            # and the rows must be copied while the default still fills them.
            result.append(ops.ModifyTableOps(table.table_name, drops, schema=table.schema))
    upgrade.ops = result
    unknown = sorted(set(defaults) - used)
    if unknown:
        raise MissingDefaultError(
            f"--default {', '.join(unknown)}: no column is added as NOT NULL without a "
            "server default to an existing table, or made NOT NULL, under that name"
        )


def _added_with_defaults(
    table: ops.ModifyTableOps, defaults: Mapping[str, str], ask: AskDefault | None, used: set[str]
) -> list[ops.MigrateOperation]:
    """Give the NOT NULL columns added to `table` a server default; return its drops."""
    drops: list[ops.MigrateOperation] = []
    for op in table.ops:
        column = getattr(op, "column", None) if isinstance(op, ops.AddColumnOp) else None
        if column is None or column.nullable or column.server_default is not None:
            continue
        if column.computed is not None or column.identity is not None:
            continue
        need = NotNullColumn(table.table_name, column.name, str(column.type))
        value = _default_for(need, defaults, ask)
        used.add(need.key)
        column.server_default = DefaultClause(text(value))
        drops.append(
            ops.AlterColumnOp(
                table.table_name,
                column.name,
                schema=table.schema,
                existing_type=column.type,
                existing_nullable=False,
                modify_server_default=None,
            )
        )
    return drops


def _filled_nulls(
    table: ops.ModifyTableOps, defaults: Mapping[str, str], ask: AskDefault | None, used: set[str]
) -> list[ops.MigrateOperation]:
    """Return the `UPDATE`s filling the NULLs of the columns `table` makes NOT NULL."""
    fills: list[ops.MigrateOperation] = []
    for op in table.ops:
        if not isinstance(op, ops.AlterColumnOp) or op.modify_nullable is not False:
            continue
        if op.existing_nullable is False:
            continue
        type_ = op.existing_type if op.existing_type is not None else op.modify_type
        need = NotNullColumn(table.table_name, op.column_name, str(type_), existing=True)
        value = _default_for(need, defaults, ask)
        used.add(need.key)
        fills.append(FillNullsOp(table.table_name, op.column_name, value, table.schema))
    return fills


def _default_for(need: NotNullColumn, defaults: Mapping[str, str], ask: AskDefault | None) -> str:
    if need.key in defaults:
        return defaults[need.key]
    if ask is not None:
        return ask(need)
    example = "an SQL expression: 0, 'draft', CURRENT_TIMESTAMP"
    if need.existing:
        raise MissingDefaultError(
            f"column {need.key} ({need.type}) becomes NOT NULL, and {need.table} may have "
            f"rows where it is NULL: give a value for them with --default {need.key}=VALUE "
            f"({example}), or keep the column nullable"
        )
    raise MissingDefaultError(
        f"column {need.key} ({need.type}) is NOT NULL without a server default, and "
        f"{need.table} may already have rows: give a one-off default for them with "
        f"--default {need.key}=VALUE ({example}), "
        "or make the column nullable, or give it a server_default"
    )


def battery_tables(locations: Iterable[Path]) -> set[str]:
    """Return the tables that the revision files in battery folders `locations` create."""
    found: set[str] = set()
    for folder in locations:
        for path in folder.glob("*.py"):
            found.update(_CREATE_TABLE.findall(path.read_text(encoding="utf-8")))
    return found


@contextlib.asynccontextmanager
async def scratch_database(db: Database, *, replay: bool = True) -> AsyncIterator[Database]:
    """Yield a SQLite database in a temporary folder, migrated to every head of `db`'s files.

    Without `replay`, it is left empty (for a revision that compares nothing).

    Raises:
        MigrationError: a revision cannot be replayed on SQLite (one written for another
            database by hand, say): connect to the database and apply its migrations.
    """
    from trivium.db._database import Database
    from trivium.db._migrations import MigrationError
    from trivium.db._migrations import Migrations

    with tempfile.TemporaryDirectory(prefix="trivium-makemigrations-") as folder:
        scratch = Database(
            f"sqlite+aiosqlite:///{Path(folder) / 'scratch.db'}",
            name=db.name,
            migrations=db.migrations,
            metadata=db.metadata,
        )
        scratch.version_table = db.version_table
        scratch._included.update(db.migration_locations)
        try:
            try:
                if replay:
                    await Migrations(scratch).migrate()
            except Exception as exc:
                raise MigrationError(
                    "cannot replay the migrations on a scratch SQLite database to compare "
                    f"the models with ({type(exc).__name__}: {exc}); connect to the "
                    "database and apply them first: trivium db migrate"
                ) from exc
            yield scratch
        finally:
            await scratch.dispose()


async def database_answers(db: Database) -> bool:
    """Return whether `db` accepts a connection (a short check, for choosing a strategy).

    A throwaway engine, without the outage hooks of `db.engine`: a database that is not
    there is not an outage to log here.
    """
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    connect_args = db.engine_options.get("connect_args", {})
    engine = create_async_engine(db.url, poolclass=NullPool, connect_args=connect_args)

    async def select_one() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    # Bounded: a stalled server (a black hole) would otherwise hang the command.
    seconds = db.timeout if db.timeout is not None else CONNECT_TIMEOUT
    try:
        await asyncio.wait_for(select_one(), seconds)
    except Exception:  # noqa: BLE001 - any failure means: work offline
        return False
    finally:
        await engine.dispose()
    return True
