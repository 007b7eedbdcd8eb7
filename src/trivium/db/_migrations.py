"""`Migrations`: Alembic's revision commands for a `Database`, without alembic.ini or env.py.

The project keeps only its revision files, in `Database(migrations=...)`. Batteries ship
theirs in `<package>/migrations/` and an app adds them with `db.include_migrations(...)`.
Every project revision lives on the `"app"` branch and depends on the heads of the batteries
whose tables its foreign keys refer to, so those tables are created first (`_depends`).

Writing and comparing revisions is here; running them is in `_applying`, and the types
both report with (`Revision`, `MigrationError`) are in `_revisions`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from alembic.autogenerate import RevisionContext
from alembic.autogenerate import produce_migrations
from alembic.config import Config
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from alembic.util import rev_id

from trivium.db._applying import StepFailedError
from trivium.db._applying import run_steps
from trivium.db._autogen import AddEnumValuesOp
from trivium.db._autogen import Decide
from trivium.db._autogen import RenameCandidate
from trivium.db._autogen import RenameError
from trivium.db._autogen import added_enum_values
from trivium.db._autogen import apply_renames
from trivium.db._autogen import manage_enum_types
from trivium.db._depends import heads_for
from trivium.db._depends import referenced_tables
from trivium.db._depends import trivium_battery_folders
from trivium.db._migrate_env import PROJECT_BRANCH
from trivium.db._migrate_env import describe_diff
from trivium.db._migrate_env import environment_options
from trivium.db._migrate_env import migration_connection
from trivium.db._migrate_env import project_folder
from trivium.db._migrate_env import project_heads
from trivium.db._migrate_env import run_environment
from trivium.db._migrate_env import script_directory
from trivium.db._migrate_env import several_heads
from trivium.db._offline import AskDefault
from trivium.db._offline import MissingDefaultError
from trivium.db._offline import NotNullColumn
from trivium.db._offline import battery_tables
from trivium.db._offline import database_answers
from trivium.db._offline import fill_defaults
from trivium.db._offline import scratch_database
from trivium.db._revisions import DatabaseAheadError
from trivium.db._revisions import MigrationError
from trivium.db._revisions import MigrationFailedError
from trivium.db._revisions import Revision
from trivium.db._revisions import applied_ids
from trivium.db._revisions import known_heads
from trivium.db._revisions import revision_of
from trivium.db._revisions import warn_ahead

if TYPE_CHECKING:
    from alembic.operations.ops import MigrationScript
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

    from trivium.db._database import Database

__all__ = [
    "DatabaseAheadError",
    "MigrationError",
    "MigrationFailedError",
    "Migrations",
    "NotNullColumn",
    "RenameCandidate",
    "Revision",
]

_T = TypeVar("_T")


class Migrations:
    """Create, apply and inspect the migrations of `db`; every method is a coroutine.

    ```python
    migrations = Migrations(db)
    await migrations.makemigrations("add articles")
    await migrations.migrate()
    assert await migrations.check() == []
    ```

    The methods use `db.engine` and leave it open; call `await db.dispose()` when done.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        """The database migrated."""
        self.on_lock_wait: Callable[[], None] | None = None
        """Called when `migrate` or `downgrade` finds another migration of the database
        running, before waiting for it to finish (`trivium db migrate` prints a line)."""

    async def makemigrations(  # noqa: PLR0913 - keyword-only decisions of one command
        self,
        message: str,
        *,
        empty: bool = False,
        renames: Mapping[str, str] | None = None,
        drops: Collection[str] = (),
        ask: Decide | None = None,
        defaults: Mapping[str, str] | None = None,
        ask_default: AskDefault | None = None,
    ) -> Revision | None:
        """Write a revision for the changes between the models and the migration files.

        The models are compared with the schema the revision files build: replayed on a
        scratch SQLite database when the project's database is SQLite, unreachable or
        not at its latest revision (so no database connection is needed), otherwise
        with the database itself; an `empty` revision compares nothing. The file is
        written to the project's migrations folder, created if missing.

        A `NOT NULL` column without a server default added to an existing table needs a
        one-off default for the rows it has: from `defaults` (`{"table.column": "SQL
        expression"}`) or `ask_default`, or the call fails.

        A column dropped while one of the same type is added to the same table may be a
        rename; applied as drop + add it would lose the column's data. Each such pair
        must be decided by `renames`, `drops` or `ask`, or the call fails.

        Args:
            message: what the revision does; it names the file.
            empty: write a revision without operations, to fill in by hand (data migrations).
            renames: `{"table.old": "new"}`: write these pairs as column renames.
            drops: `["table.old"]`: these columns are really dropped (with their data).
            ask: called with each undecided `RenameCandidate`; `True` means a rename.
            defaults: one-off defaults of NOT NULL columns added to existing tables.
            ask_default: called with each `NotNullColumn` missing from `defaults`;
                returns its one-off default (an SQL expression).

        Returns:
            The new revision, or None when there is nothing to migrate.

        Raises:
            MigrationError: a possible rename was not decided, `renames` names a pair
                that does not exist, a NOT NULL column has no one-off default, or the
                revision files cannot be replayed offline.
        """
        decisions = _Decisions(
            dict(renames or {}), frozenset(drops), ask, dict(defaults or {}), ask_default
        )
        if empty:
            # Nothing to compare, so nothing to replay: the revisions not applied yet
            # may be written for the database alone (`CREATE INDEX CONCURRENTLY`).
            async with (
                scratch_database(self.db, replay=False) as scratch,
                migration_connection(scratch) as conn,
            ):
                args = (self.db, True, _message(message), True, decisions)
                return await conn.run_sync(_make_revision, *args)
        return await self._compare(_make_revision, _message(message), empty, decisions)

    async def merge(self, message: str = "merge heads") -> Revision:
        """Write a revision merging the heads of the project's migrations into one.

        Two branches of the project's migrations (from two developers, say) each end in
        a head; `makemigrations` refuses to add to them until they are merged.

        Raises:
            MigrationError: the project's migrations have fewer than two heads.
        """
        message = _message(message)
        script = script_directory(self.db)
        heads = project_heads(self.db, script)
        if len(heads) < 2:
            raise MigrationError(
                "the project's migrations have "
                f"{'one head' if heads else 'no revision'}: there is nothing to merge"
            )
        created = script.generate_revision(
            rev_id(), message, head=heads, version_path=str(project_folder(self.db))
        )
        if created is None:  # pragma: no cover - alembic returns None only without a file
            raise MigrationError("alembic wrote no merge revision")
        return revision_of(created, ())

    async def changes(self) -> list[str]:
        """Return the differences between the models and the migration files.

        Compared as `makemigrations` compares; an empty list means no migration needs
        writing (whether the database has applied them is `pending()`).

        Raises:
            MigrationError: the project's migrations have several heads (merge them).
        """
        several = several_heads(self.db)
        if several:
            raise MigrationError(several)
        return await self._compare(_changes)

    async def pending(self, *, strict: bool = False) -> list[str]:
        """Return the ids of the revisions the database has not applied (connects to it).

        A database at a revision this code does not have was migrated by newer code (a
        rolling deploy, a rollback): nothing is pending, and a warning says so once.

        Raises:
            DatabaseAheadError: `strict`, and the database is at such a revision.
        """
        return await self._run(_pending, strict)

    async def _compare(self, function: Callable[..., _T], *args: Any) -> _T:
        """Run `function(connection, db, offline, *args)` on the database or a scratch copy."""
        if not self.db.is_sqlite and await database_answers(self.db):
            try:
                return await self._run(function, False, *args)
            except _BehindError:
                pass
        async with scratch_database(self.db) as scratch, migration_connection(scratch) as conn:
            try:
                return await conn.run_sync(function, self.db, True, *args)
            except (CommandError, RevisionError, RenameError, MissingDefaultError) as exc:
                raise MigrationError(str(exc)) from exc

    async def migrate(self, revision: str = "heads") -> list[Revision]:
        """Apply migrations up to `revision` (default: every branch's head); return those applied.

        On PostgreSQL and MariaDB/MySQL the database's migration lock is held meanwhile:
        a second `migrate` (another pod's init container) waits for this one, then finds
        nothing left to apply.

        Raises:
            DatabaseAheadError: the database is at a revision this code does not have.
            MigrationFailedError: a revision failed; its message says what is left.
        """
        return await self._steps(revision, True)

    async def downgrade(self, revision: str, *, cascade: bool = False) -> list[Revision]:
        """Revert migrations down to `revision`; return those reverted.

        `revision` is an id, `"base"` (revert all) or relative: `"-1"` reverts the latest
        project revision (`"app@-1"`; after a merge revision, the merge alone);
        `"auth@-1"` names a battery's branch. A battery's revision that project revisions
        depend on is reverted only with `cascade`, which reverts them first.

        The migration lock is held as for `migrate`.

        Raises:
            MigrationError: `-1` while the database is at several project heads, the
                database is at a revision this code does not have (`DatabaseAheadError`),
                or project revisions depend on the battery revisions, without `cascade`.
            MigrationFailedError: a revision failed; its message says what is left.
        """
        return await self._steps(revision, False, cascade)

    async def _steps(self, target: str, upgrade: bool, cascade: bool = True) -> list[Revision]:
        try:
            return await self._run(run_steps, target, upgrade, cascade, lock=True)
        except StepFailedError as failure:
            # Rolled back by now: read what the database kept.
            kept = await self._run(_applied_now)
            raise failure.error(kept) from None

    async def history(self) -> list[Revision]:
        """Return every revision, newest first, with whether it is applied."""
        return await self._run(_history)

    async def current(self) -> list[Revision]:
        """Return the revisions the database is at (one per branch head applied)."""
        return await self._run(_current)

    async def check(self) -> list[str]:
        """Return the differences between the models and the migrated database.

        An empty list means the migrations are complete. A database that is not at the
        latest revision is reported as one difference.

        Raises:
            DatabaseAheadError: the database is at a revision this code does not have.
        """
        return await self._run(_check)

    async def _run(self, function: Callable[..., _T], *args: Any, lock: bool = False) -> _T:
        async with migration_connection(
            self.db, lock=lock, on_wait=self.on_lock_wait
        ) as connection:
            try:
                return await connection.run_sync(function, self.db, *args)
            except (CommandError, RevisionError, RenameError, MissingDefaultError) as exc:
                raise MigrationError(str(exc)) from exc


class _BehindError(Exception):
    """The database is not at its latest revision: compare on a scratch copy instead."""


def _message(message: str) -> str:
    """Return `message` stripped and escaped for the revision's docstring.

    Refuse a blank one (it names the revision file). Backslashes and quotes are escaped,
    so the docstring (and `Revision.message`, read back from it) is the message as given.
    """
    if not message.strip():
        raise MigrationError("give the revision a message, which names its file: -m MESSAGE")
    return message.strip().replace("\\", "\\\\").replace('"', '\\"')


@dataclasses.dataclass(frozen=True, slots=True)
class _Decisions:
    renames: dict[str, str]
    drops: frozenset[str]
    ask: Decide | None
    defaults: dict[str, str] = dataclasses.field(default_factory=dict)
    ask_default: AskDefault | None = None


def _at_heads(connection: Connection, db: Database, script: ScriptDirectory) -> bool:
    current = set(known_heads(connection, db, script))
    latest = {rev.revision for rev in script.get_revisions("heads") if rev is not None}
    return applied_ids(script, current) == applied_ids(script, latest)


def _comparing(connection: Connection, db: Database, offline: bool) -> dict[str, Any]:
    """Environment options overridden when comparing: types only on the database's own dialect."""
    if not offline and not _at_heads(connection, db, script_directory(db)):
        raise _BehindError
    return {"compare_type": connection.dialect.name == db.url.get_backend_name()}


def _make_revision(  # noqa: PLR0913 - the connection, then the command's inputs
    connection: Connection,
    db: Database,
    offline: bool,
    message: str,
    empty: bool,
    decisions: _Decisions,
) -> Revision | None:
    # Batch blocks on every database: on PostgreSQL and MariaDB `op.batch_alter_table`
    # alters in place, and a revision written so replays on the scratch SQLite database
    # that `makemigrations` and `check` compare with when the database is behind or
    # unreachable (SQLite has no ALTER COLUMN and no ALTER of constraints).
    overrides = {**_comparing(connection, db, offline), "render_as_batch": True}
    script = script_directory(db, create=True)
    project = project_folder(db)
    ours = [rev for rev in script.walk_revisions() if Path(rev.path).parent == project]
    our_heads = project_heads(db, script)
    several = several_heads(db)
    if several:
        raise MigrationError(several)
    base = our_heads[0] if our_heads else "base"
    known = applied_ids(script, our_heads)
    folders = [path for path in db.migration_locations.values() if path != project]
    owners = {
        table: head
        for table, head in _battery_table_heads(script, folders).items()
        if head not in known
    }
    context = RevisionContext(
        Config(),
        script,
        {
            "message": message,
            "autogenerate": not empty,
            "sql": False,
            "head": base,
            "splice": False,
            "branch_label": None if ours else PROJECT_BRANCH,
            "version_path": str(project),
            "rev_id": None,
            "depends_on": None,
        },
        process_revision_directives=None if empty else _postprocess(db, decisions, owners),
    )

    def generate(rev: Any, migration_context: MigrationContext) -> list[Any]:
        if empty:
            context.run_no_autogenerate(rev, migration_context)
        else:
            try:
                context.run_autogenerate(rev, migration_context)
            except CommandError as exc:
                raise MigrationError(
                    f"{exc} Apply the pending migrations first: trivium db migrate"
                ) from exc
        return []

    run_environment(connection, db, script, generate, context, **overrides)
    created = [rev for rev in context.generate_scripts() if rev is not None]
    return revision_of(created[0], ()) if created else None


def _postprocess(
    db: Database, decisions: _Decisions, owners: Mapping[str, str]
) -> Callable[..., None]:
    """Return the hook completing Alembic's autogenerated script (see `_autogen`).

    `owners` maps battery tables to their branch's head: the revision depends on the
    heads whose tables its foreign keys point at, and on no other battery.
    """

    def process(
        context: MigrationContext, revision: Any, directives: list[MigrationScript]
    ) -> None:
        del revision
        if not directives:
            return
        script, connection = directives[0], context.connection
        upgrade, downgrade = script.upgrade_ops, script.downgrade_ops
        if upgrade is None or downgrade is None or connection is None:
            return
        drop_battery_tables(script, db)
        apply_renames(script, connection, decisions.renames, decisions.drops, decisions.ask)
        fill_defaults(upgrade, decisions.defaults, decisions.ask_default)
        manage_enum_types(upgrade)
        manage_enum_types(downgrade)
        added = added_enum_values(connection, db.metadata)
        upgrade.ops[:0] = added
        downgrade.ops += [AddEnumValuesOp(op.name, op.values, downgrade=True) for op in added]
        if upgrade.is_empty():
            directives.clear()
            return
        script.depends_on = heads_for(referenced_tables(upgrade.ops), owners)

    return process


def _applied_now(connection: Connection, db: Database) -> set[str]:
    script = script_directory(db)
    return applied_ids(script, known_heads(connection, db, script))


def _history(connection: Connection, db: Database) -> list[Revision]:
    script = script_directory(db)
    applied = applied_ids(script, known_heads(connection, db, script))
    return [revision_of(rev, applied) for rev in script.walk_revisions()]


def _current(connection: Connection, db: Database) -> list[Revision]:
    script = script_directory(db)
    heads = known_heads(connection, db, script)
    found = [script.get_revision(head) for head in heads]
    return [revision_of(rev, heads) for rev in found if rev is not None]


def _pending(connection: Connection, db: Database, strict: bool) -> list[str]:
    script = script_directory(db)
    try:
        heads = known_heads(connection, db, script)
    except DatabaseAheadError as ahead:
        if strict:
            raise
        # Newer code migrated it (a rolling deploy, a rollback): not unapplied migrations,
        # so /readyz stays ready while the old servers finish.
        warn_ahead(db, ahead)
        return []
    current = applied_ids(script, heads)
    latest = applied_ids(
        script, [r.revision for r in script.get_revisions("heads") if r is not None]
    )
    return sorted(latest - current)


def _changes(connection: Connection, db: Database, offline: bool) -> list[str]:
    options = {**environment_options(db), **_comparing(connection, db, offline)}
    context = MigrationContext.configure(connection, opts=options)
    script = produce_migrations(context, db.metadata)
    drop_battery_tables(script, db)
    operations = script.upgrade_ops
    if operations is None:
        return []
    operations.ops[:0] = added_enum_values(connection, db.metadata)
    return [describe_diff(diff) for diff in operations.as_diffs()]


def drop_battery_tables(script: MigrationScript, db: Database) -> None:
    """Leave the tables batteries' migrations create out of the project's revision."""
    project = project_folder(db)
    folders = [path for path in db.migration_locations.values() if path != project]
    tables = battery_tables(folders) | battery_tables(trivium_battery_folders())
    for container in (script.upgrade_ops, script.downgrade_ops):
        if container is None:
            continue
        container.ops = [op for op in container.ops if _table_of(op) not in tables]


def _battery_table_heads(script: ScriptDirectory, folders: list[Path]) -> dict[str, str]:
    """Return, for each table a battery folder's revisions create, that branch's head."""
    heads = [rev for rev in script.get_revisions("heads") if rev is not None]
    found: dict[str, str] = {}
    for folder in folders:
        resolved = folder.resolve()
        ours = [rev.revision for rev in heads if Path(rev.path).parent == resolved]
        if len(ours) == 1:
            found.update(dict.fromkeys(battery_tables([folder]), ours[0]))
    return found


def _table_of(op: Any) -> str | None:
    if isinstance(op, ops.CreateTableOp | ops.DropTableOp | ops.ModifyTableOps):
        return str(op.table_name)
    if isinstance(op, ops.CreateIndexOp | ops.DropIndexOp):
        return str(op.table_name)
    return None


def _check(connection: Connection, db: Database) -> list[str]:
    several = several_heads(db)
    if several:
        return [several]
    script = script_directory(db)
    context = MigrationContext.configure(connection, opts=environment_options(db))
    current = set(known_heads(connection, db, script))
    latest = {rev.revision for rev in script.get_revisions("heads") if rev is not None}
    if applied_ids(script, current) != applied_ids(script, latest):
        missing = sorted(applied_ids(script, latest) - applied_ids(script, current))
        return [f"the database is not at the latest revision; unapplied: {', '.join(missing)}"]
    operations = produce_migrations(context, db.metadata).upgrade_ops
    if operations is None:
        return []
    operations.ops[:0] = added_enum_values(connection, db.metadata)
    return [describe_diff(diff) for diff in operations.as_diffs()]
