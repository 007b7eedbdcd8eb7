"""What a failed `migrate` or `downgrade` leaves behind, said in one line.

A revision that fails (a `NOT NULL` column meeting a `NULL` row, a hand-written
statement the database refuses) otherwise ends the command with the driver's traceback.
`StepWatch` follows the run: the revisions done, and the statements the running one has
executed, since MariaDB and MySQL commit each schema change on its own and cannot roll
them back, and a revision may commit part of itself (`op.get_bind().commit()`, as a
generated revision adding enum values does). `failure_message` then names the revision,
the database's message and what is left of the revision: nothing on PostgreSQL and
SQLite, which roll it back, unless it committed part of itself: then the statements
before its commit stay applied (what followed the commit is rolled back, see
`_migrate_env`); on MariaDB and MySQL, the schema changes too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.script import Script
    from sqlalchemy.engine import Connection

__all__ = ["StepWatch", "database_message", "failure_message"]

_READS = ("select", "show", "pragma", "describe", "explain", "set ", "begin")
_SCHEMA = ("create", "alter", "drop", "rename", "truncate")
_SPACES = re.compile(r"\s+")
_DRIVER_CLASS = re.compile(r"^<class '[\w.]+'>:\s*")


class StepWatch:
    """Follow the steps of a run and the statements of the step running."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.planned: list[Any] = []
        """Alembic's steps of the run, in order."""
        self.finished = 0
        """How many of them are done."""
        self.statements: list[str] = []
        """The writes the running step has executed."""
        self.attempted = ""
        """The last statement sent (the failing one, after a failure)."""
        self.committed = 0
        """How many of `statements` the running step committed itself."""

    def __enter__(self) -> StepWatch:
        event.listen(self.connection, "before_cursor_execute", self._sent)
        event.listen(self.connection, "after_cursor_execute", self._executed)
        event.listen(self.connection, "commit", self._committed)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(self.connection, "before_cursor_execute", self._sent)
        event.remove(self.connection, "after_cursor_execute", self._executed)
        event.remove(self.connection, "commit", self._committed)

    def plan(self, steps: list[Any]) -> list[Any]:
        """Remember the steps alembic is about to run; return them."""
        self.planned = list(steps)
        self.statements.clear()
        self.committed = 0
        return steps

    def step_done(self) -> None:
        """Count a step done: the statements that follow belong to the next one."""
        self.finished += 1
        self.statements.clear()
        self.committed = 0

    def running(self) -> Script | None:
        """Return the revision of the step that was running, if any."""
        if self.finished >= len(self.planned):
            return None
        revision: Script | None = getattr(self.planned[self.finished], "revision", None)
        return revision

    def lasting(self) -> list[str]:
        """Return the statements of the running step the database keeps after a failure.

        Those before the step's own commit, if it committed. On MariaDB/MySQL, a schema
        change commits what came before it and itself too; the writes after the last one
        are rolled back, unless the failing statement is a schema change too.
        """
        kept = self.committed
        if self.connection.dialect.name in ("mysql", "mariadb"):
            if _is_schema_change(self.attempted):
                kept = len(self.statements)
            for i, statement in enumerate(self.statements):
                if _is_schema_change(statement):
                    kept = max(kept, i + 1)
        return self.statements[:kept]

    def _sent(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        del conn, cursor, args
        self.attempted = statement

    def _committed(self, conn: Any) -> None:
        del conn
        self.committed = len(self.statements)

    def _executed(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        del conn, cursor, args
        shown = _SPACES.sub(" ", statement).strip()
        if not shown.lower().startswith(_READS):
            self.statements.append(shown)


def _is_schema_change(statement: str) -> bool:
    return statement.lstrip().lower().startswith(_SCHEMA)


def database_message(exc: BaseException) -> str:
    """Return the database's own message of `exc`, on one line, without the driver's class."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    if orig is None:
        return _SPACES.sub(" ", f"{type(exc).__name__}: {exc}").strip()
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    if len(args) == 2 and isinstance(args[0], int):  # MariaDB/MySQL: (code, message)
        text = f"{args[1]} ({args[0]})"
    else:
        text = _DRIVER_CLASS.sub("", str(orig))
    return _SPACES.sub(" ", text).strip()


def failure_message(  # noqa: PLR0913 - the parts of one sentence
    revision: Script,
    upgrade: bool,
    dialect: str,
    exc: BaseException,
    statements: list[str],
    rolled_back: int,
) -> str:
    """Say which revision failed, why, and what the database is left with, in one line."""
    name = f"{revision.revision} ({(revision.doc or '').strip()})"
    what = f"migration {name}" if upgrade else f"downgrade of migration {name}"
    line = f"{what} failed: {database_message(exc)}"
    count = "the statement" if len(statements) == 1 else f"the {len(statements)} statements"
    if dialect in ("mysql", "mariadb") and statements:
        stay = "stays" if len(statements) == 1 else "stay"
        line += (
            f"; MariaDB/MySQL cannot roll back schema changes, so {count} before the "
            f"failing one {stay} applied ({'; '.join(statements)}) and the revision is not "
            "recorded: repair the database by hand (undo them) before running the "
            "command again"
        )
    elif statements:
        stay = "stays" if len(statements) == 1 else "stay"
        line += (
            f"; the revision committed part of itself, so {count} before its commit "
            f"{stay} applied ({'; '.join(statements)}) and the rest of it is rolled back; "
            "it is not recorded, so the command runs it again from the start: undo them "
            "by hand first, unless they can run twice (ADD VALUE IF NOT EXISTS can)"
        )
    else:
        line += "; nothing of it was applied" if upgrade else "; nothing of it was reverted"
    if rolled_back:
        line += f", nor of the {rolled_back} revision(s) this command ran before it"
    return line
