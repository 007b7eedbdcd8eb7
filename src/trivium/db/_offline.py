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
  applied to a table with rows. `makemigrations` asks for a one-off default (an SQL
  expression used to fill the existing rows, then dropped), takes it from `defaults`, or
  refuses with what to do.
- Tables that a battery's migrations create (`trivium_store`, `auth_user`...) are never
  written into the project's migrations, even when the models share one metadata.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from alembic.operations import ops
from sqlalchemy import text

from trivium.errors import TriviumError

if TYPE_CHECKING:
    from trivium.db._database import Database

__all__ = [
    "AskDefault",
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
    """A `NOT NULL` column without a server default, added to a table that already exists."""

    __slots__ = ("column", "table", "type")

    def __init__(self, table: str, column: str, type_: str) -> None:
        self.table = table
        """The table."""
        self.column = column
        """The new column."""
        self.type = type_
        """Its SQL type."""

    @property
    def key(self) -> str:
        """`table.column`, as `defaults` names it."""
        return f"{self.table}.{self.column}"


AskDefault = Callable[[NotNullColumn], str]
"""Asked for a one-off default of a column (an SQL expression such as `0` or `'draft'`)."""


def fill_defaults(
    upgrade: ops.UpgradeOps, defaults: Mapping[str, str], ask: AskDefault | None
) -> None:
    """Give each NOT NULL column added to an existing table a one-off server default.

    The column is added with `server_default=sa.text(DEFAULT)`, which fills the rows the
    table has, and the default is dropped right after (`alter_column(...,
    server_default=None)`), so the model's own (Python-side) default stays the only one.

    Raises:
        MissingDefaultError: a column has no default in `defaults` and `ask` is `None`,
            or `defaults` names a column that is not such a column.
    """
    from sqlalchemy import DefaultClause
    from sqlalchemy import text as sql_text

    used: set[str] = set()
    result: list[ops.MigrateOperation] = []
    for table in upgrade.ops:
        result.append(table)
        if not isinstance(table, ops.ModifyTableOps):
            continue
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
            column.server_default = DefaultClause(sql_text(value))
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
        if drops:
            # A step of its own: SQLite's batch mode rebuilds the table once per step,
            # and the rows must be copied while the default still fills them.
            result.append(ops.ModifyTableOps(table.table_name, drops, schema=table.schema))
    upgrade.ops = result
    unknown = sorted(set(defaults) - used)
    if unknown:
        raise MissingDefaultError(
            f"--default {', '.join(unknown)}: no NOT NULL column without a server default "
            "is added to an existing table under that name"
        )


def _default_for(need: NotNullColumn, defaults: Mapping[str, str], ask: AskDefault | None) -> str:
    if need.key in defaults:
        return defaults[need.key]
    if ask is not None:
        return ask(need)
    raise MissingDefaultError(
        f"column {need.key} ({need.type}) is NOT NULL without a server default, and "
        f"{need.table} may already have rows: give a one-off default for them with "
        f"--default {need.key}=VALUE (an SQL expression: 0, 'draft', CURRENT_TIMESTAMP), "
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
async def scratch_database(db: Database) -> AsyncIterator[Database]:
    """Yield a SQLite database in a temporary folder, migrated to every head of `db`'s files.

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

    engine = create_async_engine(db.url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means: work offline
        return False
    finally:
        await engine.dispose()
    return True
