"""Applying revisions: the steps `migrate` and `downgrade` run inside one transaction.

`run_steps` walks Alembic's steps up or down to a target, resolving a relative
downgrade (`-1`) on the project's branch first and refusing an ambiguous one. While the
steps run, a `StepWatch` (`_failure`) follows them; when one fails, `StepFailedError`
carries what is known out of the transaction, and once it is rolled back `Migrations`
asks it for the `MigrationFailedError` that says what the database was left with.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from alembic.script.revision import RevisionError
from alembic.util import CommandError

from trivium.db._failure import StepWatch
from trivium.db._failure import failure_message
from trivium.db._migrate_env import PROJECT_BRANCH
from trivium.db._migrate_env import project_folder
from trivium.db._migrate_env import run_environment
from trivium.db._migrate_env import script_directory
from trivium.db._revisions import MigrationError
from trivium.db._revisions import MigrationFailedError
from trivium.db._revisions import Revision
from trivium.db._revisions import check_known
from trivium.db._revisions import known_heads
from trivium.db._revisions import revision_of

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import Script
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

    from trivium.db._database import Database

__all__ = ["StepFailedError", "run_steps"]

_RELATIVE = re.compile(r"-\d+")


class StepFailedError(Exception):
    """A revision failed during `migrate`/`downgrade`; raised out of the transaction."""

    def __init__(
        self, revision: Script, watch: StepWatch, upgrade: bool, exc: BaseException, done: list[Any]
    ) -> None:
        super().__init__(str(exc))
        self.revision = revision
        self.statements = watch.lasting()
        self.dialect = watch.connection.dialect.name
        self.upgrade = upgrade
        self.exc = exc
        self.done: list[Script] = done

    def error(self, kept: set[str]) -> MigrationFailedError:
        """Return the error to raise, knowing the revisions the database `kept` applied."""
        stays = [rev for rev in self.done if (rev.revision in kept) == self.upgrade]
        message = failure_message(
            self.revision,
            self.upgrade,
            self.dialect,
            self.exc,
            self.statements,
            len(self.done) - len(stays),
        )
        done = [revision_of(rev, [rev.revision] if self.upgrade else ()) for rev in stays]
        return MigrationFailedError(message, self.revision.revision, done)


def run_steps(
    connection: Connection, db: Database, target: str, upgrade: bool, cascade: bool = True
) -> list[Revision]:
    """Apply (or revert) the revisions up (down) to `target`; return them in order.

    Without `cascade`, a downgrade of a battery's branch that would revert project
    revisions too (they depend on it) is refused before anything runs.

    Raises:
        DatabaseAheadError: the database is at a revision this code does not have.
        MigrationError: the downgrade would revert project revisions, without `cascade`.
        StepFailedError: a revision failed; the caller reads what the database kept.
    """
    script = script_directory(db)
    given = target
    if not upgrade and _RELATIVE.fullmatch(target) is not None:
        target = _relative_target(db, script, known_heads(connection, db, script), target)
    done: list[tuple[Script, bool]] = []
    watch = StepWatch(connection)

    def steps(rev: Any, context: MigrationContext) -> list[Any]:
        # The heads as Alembic read them, inside its run: reading them before would open
        # a transaction of our own, and Alembic would no longer commit each revision on
        # the databases without transactional DDL (SQLite, MariaDB/MySQL).
        del context
        check_known(script, tuple(rev))
        if upgrade:
            return watch.plan(script._upgrade_revs(target, rev))
        try:
            planned = script._downgrade_revs(target, rev)
        except (CommandError, RevisionError) as exc:
            if "Ambiguous walk" not in str(exc):
                raise
            raise MigrationError(
                f"{given} walks back through a merge revision, which has several parents: "
                "name the revision to go back to: trivium db downgrade REVISION"
            ) from exc
        if not cascade:
            _refuse_project_reverts(db, script, target, given, planned)
        return watch.plan(planned)

    def on_apply(*, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        del ctx, heads, run_args
        watch.step_done()
        for revision_id in step.up_revision_ids:
            found = script.get_revision(revision_id)
            if found is not None:
                done.append((found, bool(step.is_upgrade)))

    try:
        with watch:
            run_environment(connection, db, script, steps, on_version_apply=on_apply)
    except Exception as exc:
        running = watch.running()
        if running is None:
            raise
        raise StepFailedError(running, watch, upgrade, exc, [rev for rev, _ in done]) from exc
    return [revision_of(rev, [rev.revision] if applied else ()) for rev, applied in done]


def _relative_target(
    db: Database, script: ScriptDirectory, heads: tuple[str, ...], target: str
) -> str:
    """Resolve a relative downgrade (`-1`) on the project's branch, refusing ambiguous ones."""
    if not any(PROJECT_BRANCH in rev.branch_labels for rev in script.walk_revisions()):
        return target
    project = project_folder(db)
    current = [script.get_revision(head) for head in heads]
    ours = [rev for rev in current if rev is not None and Path(rev.path).parent == project]
    if len(ours) > 1:
        raise MigrationError(
            f"the database is at {len(ours)} heads of the project's migrations "
            f"({', '.join(rev.revision for rev in ours)}), so {target} is ambiguous: name "
            "the revision to go back to: trivium db downgrade REVISION"
        )
    parents = ours[0]._versioned_down_revisions if ours else ()
    if len(parents) > 1:
        if target == "-1":  # down to one of the merged heads reverts the merge alone
            return parents[0]
        raise MigrationError(
            f"revision {ours[0].revision} merges {', '.join(parents)}, so {target} is "
            "ambiguous: name the revision to go back to: trivium db downgrade REVISION"
        )
    return f"{PROJECT_BRANCH}@{target}"


def _refuse_project_reverts(
    db: Database, script: ScriptDirectory, target: str, given: str, planned: list[Any]
) -> None:
    """Refuse reverting project revisions when `target` names a battery's revision or branch."""
    project = project_folder(db)
    branch, at, _ = target.partition("@")
    if at:
        battery = branch != PROJECT_BRANCH and not any(
            Path(rev.path).parent == project
            for rev in script.walk_revisions()
            if branch == rev.revision or branch in rev.branch_labels
        )
    else:
        try:
            named = script.get_revision(target)
        except (CommandError, RevisionError):
            return
        battery = named is not None and Path(named.path).parent != project
    ours = [
        step.revision.revision for step in planned if Path(step.revision.path).parent == project
    ]
    if battery and ours:
        raise MigrationError(
            f"downgrading {given} would also revert the project's revisions "
            f"{', '.join(ours)} (they depend on it), dropping their tables and rows; to "
            f"revert them too: trivium db downgrade {given} --cascade"
        )
