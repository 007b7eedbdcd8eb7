"""The vocabulary every migration command shares: its errors, `Revision`, what is applied.

`Migrations` (writing and inspecting revisions) and `_applying` (running them) both
report revisions as `Revision` and fail with `MigrationError`; the helpers here read
which revisions the database has applied, from its version table and the revisions'
parents. They live apart so that both modules import them without importing each other.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from alembic.runtime.migration import MigrationContext

from trivium.errors import TriviumError

if TYPE_CHECKING:
    from alembic.script import Script
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

    from trivium.db._database import Database

__all__ = [
    "DatabaseAheadError",
    "MigrationError",
    "MigrationFailedError",
    "Revision",
    "applied_ids",
    "check_known",
    "database_heads",
    "known_heads",
    "revision_of",
    "warn_ahead",
]

logger = logging.getLogger("trivium.db")
_WARNED: set[tuple[str, tuple[str, ...]]] = set()


class MigrationError(TriviumError):
    """A migration command cannot run: unknown revision, database not up to date, ..."""


class MigrationFailedError(MigrationError):
    """A revision failed while `migrate` or `downgrade` ran it; the message says what is left."""

    def __init__(self, message: str, revision: str, done: list[Revision]) -> None:
        super().__init__(message)
        self.revision = revision
        """The id of the revision that failed."""
        self.done = done
        """The revisions the command applied (or reverted) before it, which stay so."""


class DatabaseAheadError(MigrationError):
    """The database is at a revision this code's migrations do not have: newer code migrated it.

    `pending()` (and so `/readyz`) treats such a database as up to date; the commands
    that must walk the revisions (`migrate`, `downgrade`, `current`, `history`,
    `check`) refuse with this one-line error instead of Alembic's "Can't locate revision".
    """

    def __init__(self, revisions: Iterable[str]) -> None:
        self.revisions = tuple(revisions)
        """The revisions the database records that no migrations folder here holds."""
        shown = ", ".join(self.revisions)
        plural = "s" if len(self.revisions) > 1 else ""
        super().__init__(
            f"the database is at revision{plural} {shown}, which this code's migrations do "
            "not have: newer code has migrated it. Roll forward (deploy the newer code), or "
            "downgrade the database with the newer code first (trivium db downgrade REVISION)"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Revision:
    """One revision file, as `history`, `current`, `migrate` and friends report it."""

    id: str
    """The revision identifier."""
    message: str
    """The message given to `makemigrations`."""
    down_revisions: tuple[str, ...]
    """The revisions this one follows (none for the first of a branch)."""
    branch_labels: tuple[str, ...]
    """The branches it belongs to: `"app"` for the project, a battery's own label."""
    path: Path
    """The revision file."""
    is_head: bool
    """Whether it is the latest revision of its branch."""
    applied: bool
    """Whether it is applied to the database (after the command, for migrate/downgrade)."""


def revision_of(script: Script, applied: Iterable[str]) -> Revision:
    """Return Alembic's `script` as a `Revision`, applied if its id is in `applied`."""
    return Revision(
        id=script.revision,
        message=(script.doc or "").strip(),
        down_revisions=tuple(script._versioned_down_revisions),
        branch_labels=tuple(sorted(script.branch_labels)),
        path=Path(script.path),
        is_head=script.is_head,
        applied=script.revision in set(applied),
    )


def applied_ids(script: ScriptDirectory, heads: Iterable[str]) -> set[str]:
    """Return the ids of `heads` and everything they stand on (parents and dependencies)."""
    heads = tuple(heads)
    if not heads:
        return set()
    return {rev.revision for rev in script.iterate_revisions(heads, "base")}


def database_heads(connection: Connection, db: Database) -> tuple[str, ...]:
    """Return the revisions the database's version table records."""
    context = MigrationContext.configure(connection, opts={"version_table": db.version_table})
    return tuple(context.get_current_heads())


def known_heads(connection: Connection, db: Database, script: ScriptDirectory) -> tuple[str, ...]:
    """Return the revisions the version table records, all of them known to `script`.

    Raises:
        DatabaseAheadError: the table records a revision no migrations folder holds.
    """
    return check_known(script, database_heads(connection, db))


def check_known(script: ScriptDirectory, heads: tuple[str, ...]) -> tuple[str, ...]:
    """Return `heads`, the revisions a database is at, if `script` holds them all.

    Raises:
        DatabaseAheadError: one of them is in no migrations folder here.
    """
    ours = {rev.revision for rev in script.walk_revisions()} if heads else set()
    unknown = [head for head in heads if head not in ours]
    if unknown:
        raise DatabaseAheadError(unknown)
    return heads


def warn_ahead(db: Database, error: DatabaseAheadError) -> None:
    """Log, once per process, that `db` is at revisions this code does not have."""
    key = (db.name, error.revisions)
    if key in _WARNED:
        return
    _WARNED.add(key)
    logger.warning(
        "database %r is at revision %s, which this code's migrations do not have (newer "
        "code migrated it); its migrations count as applied. Roll forward, or downgrade "
        "it with the newer code",
        db.name,
        ", ".join(error.revisions),
    )
