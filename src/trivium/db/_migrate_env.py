"""What an Alembic `env.py` would hold, kept in code so a project needs none.

Alembic normally reads `alembic.ini` and runs the project's `env.py`; trivium builds the
`ScriptDirectory` from the `Database` instead (the project's migrations folder plus the
folders of included batteries) and passes the environment options itself, and
`run_environment` does what an `env.py` does when run. Autogenerate looks only at
tables of the database's metadata, so tables of other apps sharing the database are
neither dropped nor reported.

A revision may commit part of itself (`op.get_bind().commit()`: a generated revision
adding enum values does, so that later revisions can use them). The rest of it then goes
on in a new transaction, committed with the revision's record, so that a failure rolls
back what followed the commit instead of leaving each statement committed on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sys
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column
from sqlalchemy import Index
from sqlalchemy import Table
from sqlalchemy import text
from sqlalchemy.types import TypeEngine

from trivium.db._depends import LenientScriptDirectory
from trivium.db._outage import unbounded_statements

if TYPE_CHECKING:
    from alembic.autogenerate import RevisionContext
    from alembic.autogenerate.api import AutogenContext
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection

    from trivium.db._database import Database

__all__ = [
    "CONNECT_TIMEOUT",
    "PROJECT_BRANCH",
    "describe_diff",
    "environment_options",
    "migration_connection",
    "project_folder",
    "project_heads",
    "run_environment",
    "script_directory",
    "several_heads",
]

PROJECT_BRANCH = "app"
"""The branch label of the project's own revisions (batteries label theirs by name)."""
CONNECT_TIMEOUT = 60.0
"""Seconds a migration command waits to connect when the `Database` has no `timeout`
(as long as the app's start-up waits)."""

_TEMPLATE_DIR = Path(__file__).parent / "_migration_template"
_FILE_TEMPLATE = "%(year)d%(month).2d%(day).2d_%(rev)s_%(slug)s"


def project_folder(db: Database) -> Path:
    """Return the absolute path of the project's migrations folder."""
    return db.migrations.expanduser().resolve()


def script_directory(db: Database, *, create: bool = False) -> ScriptDirectory:
    """Build Alembic's view of the revisions: the project folder first, then batteries'.

    The project folder is left out while it does not exist, unless `create` is set.
    """
    project = project_folder(db)
    if create:
        project.mkdir(parents=True, exist_ok=True)
    locations = [project] if project.is_dir() else []
    locations += [path for path in db.migration_locations.values() if path != project]
    return LenientScriptDirectory(
        str(_TEMPLATE_DIR),
        file_template=_FILE_TEMPLATE,
        truncate_slug_length=40,
        version_locations=[str(path) for path in locations],
        messaging_opts={"quiet": True},
    )


def project_heads(db: Database, script: ScriptDirectory) -> list[str]:
    """Return the ids of the heads among the project's own revisions."""
    project = project_folder(db)
    heads = script.get_revisions("heads")
    return [rev.revision for rev in heads if rev is not None and Path(rev.path).parent == project]


def several_heads(db: Database) -> str | None:
    """Say that the project's migrations have several heads, or return None."""
    if not project_folder(db).is_dir():
        return None
    heads = project_heads(db, script_directory(db))
    if len(heads) < 2:
        return None
    return (
        f"the project's migrations have {len(heads)} heads ({', '.join(heads)}); "
        "merge them into one with: trivium db merge"
    )


def environment_options(db: Database) -> dict[str, Any]:
    """Return the options for `EnvironmentContext.configure` / `MigrationContext`."""
    metadata = db.metadata

    def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        if type_ != "table":
            return True
        schema = parent_names.get("schema_name")
        return (f"{schema}.{name}" if schema else name) in metadata.tables

    return {
        "target_metadata": metadata,
        "include_name": include_name,
        "compare_type": True,
        "render_as_batch": db.is_sqlite,
        "render_item": _render_item,
        "version_table": db.version_table,
    }


def run_environment(
    connection: Connection,
    db: Database,
    script: ScriptDirectory,
    fn: Callable[[Any, MigrationContext], list[Any]],
    revision_context: RevisionContext | None = None,
    **configure: Any,
) -> None:
    """Do what an `env.py` does: configure the context on `connection` and run `fn`."""
    extra: dict[str, Any] = {}
    if revision_context is not None:
        extra = {
            "template_args": revision_context.template_args,
            "revision_context": revision_context,
        }
    given = configure.pop("on_version_apply", ())
    callbacks = [given] if callable(given) else list(given)
    with (
        EnvironmentContext(Config(), script, fn=fn, **extra) as environment,
        _begin_after_commit(connection, environment) as (revision_done, autocommit_in_run),
    ):
        # A collection of callables, as documented (the annotation says one).
        callbacks.append(revision_done)
        options = {**environment_options(db), **configure, "on_version_apply": callbacks}
        environment.configure(connection=connection, **options)
        autocommit_in_run(environment.get_context())
        with environment.begin_transaction():
            environment.run_migrations()


@contextlib.contextmanager
def _begin_after_commit(
    connection: Connection, environment: EnvironmentContext
) -> Iterator[tuple[Callable[..., None], Callable[[MigrationContext], None]]]:
    """Begin a new transaction as soon as a revision commits `connection` (for the block).

    Without one, the statements after the commit would each be committed on its own:
    SQLAlchemy begins a transaction lazily, and Alembic's `batch_alter_table` wraps its
    statements in a transaction of their own (committed at the end of the block) when the
    connection is in none. Alembic's transaction of the revision, where it has one (SQLite,
    MariaDB/MySQL: one per revision), becomes the new one, which it commits or rolls back.
    Where the run has one transaction (PostgreSQL), the callback yielded (called by
    Alembic once a revision is recorded) commits a revision that committed part of
    itself: it is then applied and recorded whole, whatever the later revisions do.

    `op.get_context().autocommit_block()` commits too: the second callable yielded lets
    it commit the run's transaction where Alembic has none of its own (it would fail on
    an assertion), and counts it as the revision's commit.
    """
    commit = connection.commit
    committed = False

    def commit_and_begin() -> None:
        nonlocal committed
        commit()
        committed = True
        transaction = connection.begin()
        context = environment.get_context()
        if context._transaction is not None:  # Alembic's, of this revision
            context._transaction = transaction

    def revision_done(**kwargs: Any) -> None:
        nonlocal committed
        del kwargs
        if committed and environment.get_context()._transaction is None:
            commit()
            connection.begin()
        committed = False

    def autocommit_in_run(context: MigrationContext) -> None:
        block = context.autocommit_block

        @contextlib.contextmanager
        def autocommit_block() -> Iterator[None]:
            nonlocal committed
            # Alembic commits its own transaction before the block and begins another
            # after it; the run's transaction (PostgreSQL's, or ours after the migration
            # lock) is the connection's, which Alembic does not hold.
            external = context._transaction is None and connection.in_transaction()
            if external:
                context._transaction = connection.get_transaction()
            committed = True
            try:
                with block():
                    yield
            finally:
                if external:
                    context._transaction = None  # the run's again, as before the block

        context.autocommit_block = autocommit_block  # type: ignore[method-assign]

    connection.commit = commit_and_begin  # type: ignore[method-assign]
    try:
        yield revision_done, autocommit_in_run
    finally:
        del connection.commit


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render column types from outside SQLAlchemy by their public import path.

    Alembic would write `trivium.db._model.UTCDateTime()` without importing it; this
    writes `trivium.db.UTCDateTime()` and adds `import trivium.db` to the revision.
    """
    if type_ != "type" or not isinstance(obj, TypeEngine):
        return False
    cls = type(obj)
    if cls.__module__.split(".")[0] == "sqlalchemy":
        return False
    module = _public_module(cls)
    autogen_context.imports.add(f"import {module}")
    return f"{module}.{obj!r}"


def _public_module(cls: type) -> str:
    """Return the shortest module path without private parts that exports `cls`."""
    parts = cls.__module__.split(".")
    for end in range(1, len(parts) + 1):
        name = ".".join(parts[:end])
        module = sys.modules.get(name)
        if any(part.startswith("_") for part in parts[:end]) or module is None:
            continue
        if getattr(module, cls.__name__, None) is cls:
            return name
    return cls.__module__


@contextlib.asynccontextmanager
async def migration_connection(
    db: Database, *, lock: bool = False, on_wait: Callable[[], None] | None = None
) -> AsyncIterator[AsyncConnection]:
    """Yield a connection for running migrations; commit if the block succeeds.

    Connecting is bounded by the database's `timeout` (`CONNECT_TIMEOUT` without one),
    so a stalled server fails the command instead of hanging it. With `lock`, the
    database's migration lock is held until the block is committed (see
    `_migration_lock`); `on_wait` is called when another migration holds it.

    On SQLite, foreign keys are switched off meanwhile: batch mode copies and drops whole
    tables, and with foreign keys on, dropping a parent table would delete or refuse
    its children's rows. They are switched back on before the connection is pooled again.
    The server-side `statement_timeout` of requests does not apply to migrations.
    """
    async with contextlib.AsyncExitStack() as stack:
        connection = await _connect(db, stack)
        if lock:
            await stack.enter_async_context(_migration_lock(connection, db, on_wait))
        async with unbounded_statements(connection, db.statement_timeout):
            if db.is_sqlite:
                await connection.run_sync(_sqlite_foreign_keys, False)
            try:
                yield connection
            except BaseException:
                await connection.rollback()
                raise
            else:
                await connection.commit()
            finally:
                if db.is_sqlite:
                    await connection.run_sync(_sqlite_foreign_keys, True)


async def _connect(db: Database, stack: contextlib.AsyncExitStack) -> AsyncConnection:
    """Connect to `db` (closed with `stack`), giving up after its `timeout`.

    The driver's own connect timeout does not cover every stall: aiomysql waits for the
    server's greeting without one.
    """
    seconds = db.timeout if db.timeout is not None else CONNECT_TIMEOUT
    try:
        async with asyncio.timeout(seconds):
            connection: AsyncConnection = await stack.enter_async_context(db.engine.connect())
    except TimeoutError:
        raise TimeoutError(f"connecting timed out after {seconds:g} s") from None
    return connection


_LOCK_NAMESPACE = "trivium-migrations"


@contextlib.asynccontextmanager
async def _migration_lock(
    connection: AsyncConnection, db: Database, on_wait: Callable[[], None] | None
) -> AsyncIterator[None]:
    """Hold the database's migration lock on `connection` for the block.

    Two `migrate` commands at once (an init container per pod) would both create the
    version table or apply the same revision. PostgreSQL's `pg_advisory_lock` and
    MariaDB/MySQL's `GET_LOCK` are held by the session: taken and committed before the
    migration's transaction starts (so it reads the version table as the previous holder
    left it) and released after it commits. A session that dies releases them. SQLite
    needs none: migrations take its write lock (`BEGIN IMMEDIATE`) at their start.
    """
    backend = connection.dialect.name
    params: dict[str, object]
    if backend == "postgresql":
        key = int.from_bytes(_lock_digest(db)[:8], "big", signed=True)
        attempt = "SELECT pg_try_advisory_lock(:key)"
        wait = "SELECT true FROM pg_advisory_lock(:key)"  # blocks until it is free
        release, params = "SELECT pg_advisory_unlock(:key)", {"key": key}
    elif backend in ("mysql", "mariadb"):
        # Lock names are server-wide (not per database) and at most 64 characters.
        name = f"{_LOCK_NAMESPACE}:{_lock_digest(db).hex()[:40]}"
        # MariaDB has no infinite GET_LOCK timeout (-1 is NULL there): wait a minute at a time.
        attempt, wait = "SELECT GET_LOCK(:name, 0)", "SELECT GET_LOCK(:name, 60)"
        release, params = "SELECT RELEASE_LOCK(:name)", {"name": name}
    else:
        yield
        return
    async with unbounded_statements(connection, db.statement_timeout):
        held = await connection.scalar(text(attempt), params)
        if not held and on_wait is not None:
            on_wait()
        while not held:
            held = await connection.scalar(text(wait), params)
    await connection.commit()
    try:
        yield
    finally:
        try:
            await connection.execute(text(release), params)
            await connection.commit()
        except Exception:  # noqa: BLE001 - closing the session releases the lock
            with contextlib.suppress(Exception):
                await connection.invalidate()


def _lock_digest(db: Database) -> bytes:
    """Name the lock after the database and its version table: one lock per migrated schema."""
    where = f"{_LOCK_NAMESPACE}:{db.url.database or ''}:{db.version_table}"
    return hashlib.sha256(where.encode()).digest()


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # Through the DBAPI cursor: SQLAlchemy's "begin" hook would open a transaction, and
    # SQLite ignores this PRAGMA inside one.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def describe_diff(diff: Any) -> str:
    """Describe one autogenerate difference (`UpgradeOps.as_diffs()` item) in a line."""
    if isinstance(diff, list):
        return "; ".join(describe_diff(item) for item in diff)
    if not isinstance(diff, tuple) or not diff:
        return str(diff)
    kind, *rest = diff
    if kind == "add_enum_values":
        name, values = rest
        return f"add values {', '.join(map(repr, values))} to enum type {name}"
    if kind.startswith("modify_") and len(rest) >= 6:
        _schema, table, column, _existing, old, new = rest[:6]
        what = kind.removeprefix("modify_").replace("_", " ")
        return f"{what} of column {table}.{column} changed: {old!r} -> {new!r}"
    objects = [item for item in rest if not isinstance(item, str | None)]
    shown = objects or [item for item in rest if item]
    return f"{kind.replace('_', ' ')} {', '.join(_describe(item) for item in shown)}"


def _describe(item: Any) -> str:
    if isinstance(item, Table):
        return item.fullname
    if isinstance(item, Column):
        table = item.table.name if isinstance(getattr(item, "table", None), Table) else "?"
        return f"{table}.{item.name} {item.type}"
    if isinstance(item, Index):
        columns = ", ".join(column.name for column in item.columns)
        return f"{item.name} ({columns})"
    name = getattr(item, "name", None)
    return f"{type(item).__name__} {name}" if name else str(item)
