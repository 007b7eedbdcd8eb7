"""Hot reads: one `SELECT` run as a driver-prepared statement on a pooled connection.

Some reads happen on nearly every request (the logged-in user, a tenant, a feature flag)
and need none of what an ORM session gives: no unit of work, no identity map, no
transaction. `Database.prepare(statement)` compiles such a `SELECT` once. On PostgreSQL
(asyncpg) `first(**params)` then checks a connection out of the engine's pool and runs the
SQL directly on the driver, which prepares and caches the statement per connection: no
`BEGIN`/`ROLLBACK` round trips and no SQLAlchemy execution context per call.

The direct path returns exactly what SQLAlchemy would: the dialect's bind processors of
the parameters and result processors of the selected columns (a `TypeDecorator`, an enum
stored as text) are looked up once and applied to the driver's values, as SQLAlchemy
applies them to the same values. On every other driver the same statement runs through
SQLAlchemy Core (see `first`).
A driver error on the direct path is replayed once through Core, so it reaches the
application as the same `sqlalchemy.exc.DBAPIError` (and the same outage handling: a 503
while the database is down) as any other query.

A read is bounded as a request session's work is: by what is left of the running
request session's deadline, else by the database's `timeout`. On the direct path a
statement cut off there (a stalled network, a hung server) is stopped on the server, its
connection dropped, and `DatabaseTimeoutError` (a 504) raised, as a session's deadline
does; the Core path runs in a session bounded by that deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from trivium.db._compiled import for_driver
from trivium.db._engine import cancel_statement
from trivium.db._engine import terminate
from trivium.db._outage import _timed_out
from trivium.db._outage import running_deadline
from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy import Select

    from trivium.db._database import Database

__all__ = ["PreparedQuery"]


class PreparedQuery:
    """A compiled `SELECT` whose `first()` reads one row without an ORM session."""

    __slots__ = ("_binds", "_db", "_direct", "_names", "_own", "_results", "_sql", "statement")

    def __init__(self, db: Database, statement: Select[Any]) -> None:
        if not getattr(statement, "is_select", False):
            raise ConfigurationError(
                f"Database.prepare() takes a SELECT statement, not {type(statement).__name__}; "
                "write the query with sqlalchemy.select(...)",
                code="db-prepare-not-select",
            )
        self._db = db
        self.statement = statement
        """The SQLAlchemy statement, as given."""
        self._direct: bool | None = None  # decided on first use, when the engine exists
        self._sql = ""
        self._names: tuple[str, ...] = ()
        self._binds: tuple[Any, ...] = ()  # per parameter: the dialect's processor or None
        self._own: tuple[Any, ...] | None = None  # per parameter: its own value's bind or None
        self._results: tuple[Any, ...] | None = None  # per column, None when none has one

    @property
    def direct(self) -> bool:
        """Whether reads bypass SQLAlchemy's execution layer (asyncpg, plain column types)."""
        if self._direct is None:
            self._direct = self._compile()
        return self._direct

    def _compile(self) -> bool:
        dialect = self._db.engine.dialect
        if dialect.driver != "asyncpg":
            return False
        compiled = for_driver(self.statement, dialect)
        if compiled is None:
            return False
        self._sql, self._names, self._binds, own = compiled
        self._own = own if any(param is not None for param in own) else None
        results = tuple(
            column.type._cached_result_processor(dialect, None)
            for column in self.statement.selected_columns
        )
        self._results = results if any(results) else None
        return True

    async def first(self, **params: Any) -> Sequence[Any] | None:
        """Return the first row (a sequence in the statement's column order) or `None`.

        Raises:
            DatabaseTimeoutError: the read outlasted the request's deadline (what is left
                of its session's) or the database's `timeout` (a 504).
        """
        deadline = running_deadline()
        total: float | None
        if deadline is not None:
            seconds: float | None = deadline.left()
            total = deadline.seconds
        else:
            seconds = total = self._db.timeout
        arguments = self._arguments(params) if self.direct else None
        if arguments is None:
            # Through Core, in a session bounded as a request's is: autocommit, except on
            # MariaDB/MySQL, where switching a checked-out connection to autocommit is a
            # round trip the deadline can't see yet (a stalled server would hang it).
            mysql = self._db.engine.dialect.name in ("mysql", "mariadb")
            async with self._db._open(transaction=mysql, deadline=seconds) as session:
                result = await session.execute(self.statement, params)
                first: Sequence[Any] | None = result.first()
                return first
        loop = asyncio.get_running_loop()
        ends = None if seconds is None else loop.time() + seconds
        async with self._db.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            try:
                if ends is None:
                    row: Sequence[Any] | None = await driver.fetchrow(self._sql, *arguments)
                else:
                    async with asyncio.timeout(max(ends - loop.time(), 0.0)):
                        row = await driver.fetchrow(self._sql, *arguments)
            except TimeoutError:
                # Cut off (a stalled network, a hung server): the statement is stopped on
                # the server and the connection dropped, never handed back mid-statement.
                cancel_statement(driver)
                terminate(driver)
                await connection.invalidate()
                raise _timed_out(f"the database work took longer than {total or 0:g} s") from None
            except Exception:  # noqa: BLE001 - replayed below so SQLAlchemy translates it
                await connection.invalidate()
            else:
                results = self._results
                if row is None or results is None:
                    return row
                return tuple(
                    value if process is None else process(value)
                    for value, process in zip(row, results, strict=True)
                )
        async with self._db.autocommit_engine.connect() as replay:
            replayed = await replay.execute(self.statement, params)
            return replayed.first()  # type: ignore[no-any-return]

    def _arguments(self, params: dict[str, Any]) -> list[Any] | None:
        """The driver's arguments in placeholder order; `None` when one is missing.

        A missing parameter without a value of its own goes through Core, which raises
        SQLAlchemy's own error for it.
        """
        own = self._own
        if own is None:
            try:
                return [
                    params[name] if process is None else process(params[name])
                    for name, process in zip(self._names, self._binds, strict=True)
                ]
            except KeyError:
                return None
        arguments = []
        for name, process, param in zip(self._names, self._binds, own, strict=True):
            if name in params:
                value = params[name]
            elif param is not None:
                value = param.effective_value
            else:
                return None
            arguments.append(value if process is None else process(value))
        return arguments
