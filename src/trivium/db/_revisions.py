"""The vocabulary every migration command shares: its errors, `Revision`, what is applied.

`Migrations` (writing and inspecting revisions) and `_applying` (running them) both
report revisions as `Revision` and fail with `MigrationError`; the helpers here read
which revisions the database has applied, from its version table and the revisions'
parents. They live apart so that both modules import them without importing each other.
"""

from __future__ import annotations

import dataclasses
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
    "MigrationError",
    "MigrationFailedError",
    "Revision",
    "applied_ids",
    "database_heads",
    "revision_of",
]


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
