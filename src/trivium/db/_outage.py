"""Database outages become 503s and 504s, and a stalled database never holds a request.

The engine is given a few event hooks when it is created:

- `do_connect`: a connection that cannot be opened (refused, unreachable, timed out,
  rejected) raises `DatabaseUnavailableError`, a 503 with `Retry-After`.
- `handle_error`: a connection lost mid-statement (and, on SQLite, a locked, read-only or
  full database file) raises `DatabaseUnavailableError`; a statement the server cancelled
  for running past `statement_timeout` raises `DatabaseTimeoutError`, a 504. Other errors
  (integrity, syntax, deadlocks) are left as they are.
- the pool's `checkout`, `checkin` and `close` (db/_pool.py): a dead pooled connection
  is replaced before use, a healthy one coming back ends an outage in the log.

Each outage is logged once when it starts and once when it ends, never a traceback per
request. `Deadline` bounds a request's database work: when it runs out, the server is
asked to cancel the running statement (so the work stops there too, not only in the
app), the session's connections are closed under it (no round trip to a database that
may be stalled), the request gets a 504 and the pool slot is free again. While it runs,
it is the task's `running_deadline()`: the pool wait, the ping of an idle connection and
connecting stop when it runs out, so the deadline holds however the time is spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import weakref
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only
from sqlalchemy.util import greenlet_spawn

from trivium.db._engine import cancel_statement
from trivium.db._engine import mariadb_statement_timeout
from trivium.db._engine import terminate
from trivium.errors import GatewayTimeout
from trivium.errors import OutageLog
from trivium.errors import ServiceUnavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from collections.abc import Callable

    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Dialect
    from sqlalchemy.engine import ExceptionContext
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import SessionTransaction

__all__ = [
    "DatabaseTimeoutError",
    "DatabaseUnavailableError",
    "Deadline",
    "Outage",
    "SessionGuard",
    "TrackedSession",
    "install_hooks",
    "mariadb_statement_timeout",
    "running_deadline",
    "terminate",
    "track_connection",
    "translate",
    "translate_driver_error",
    "unbounded_statements",
]

logger = logging.getLogger("trivium.db")

RETRY_AFTER = 5
"""Seconds a client is asked to wait (`Retry-After`) after a 503 or 504."""

_CONNECTIONS = "trivium.connections"
_QUIET = 1.0
# PostgreSQL query_canceled (statement_timeout), MariaDB max_statement_time exceeded.
_PG_CANCELED = "57014"
_MYSQL_TIMEOUTS = frozenset({1969, 3024})
_SQLITE_OUTAGES = (
    "database is locked",
    "readonly database",
    "database or disk is full",
    "disk i/o error",
    "unable to open database file",
)


class DatabaseUnavailableError(ServiceUnavailable):
    """503: the database cannot be reached, or no pooled connection became free in time.

    Raised instead of the driver's error; the original stays in `__cause__`. The core
    answers it like any `HTTPException`: `503 {"detail": ...}` with `Retry-After`.
    """


class DatabaseTimeoutError(GatewayTimeout):
    """504: the database did not finish the request's work within its deadline."""


class Outage(OutageLog):
    """Log an outage of one database once when it starts and once when it ends.

    A success within a second of the latest failure does not end the outage, so a pool
    that is exhausted on and off is one outage in the log, not one per request.
    """

    __slots__ = ("name", "quiet")

    def __init__(self, name: str) -> None:
        super().__init__(logger, f"database {name!r}", counted="failed requests", settle=_QUIET)
        self.name = name
        """The database's name, used in the log lines."""
        self.quiet = False
        """Set while connecting at start-up, whose failure is said in one line of its own."""

    def failed_with(self, error: Exception) -> None:
        """Note a request failed by `error` (a 503 or 504); the first of an outage is logged.

        The line names the driver's error behind a 503, and the timeout behind a 504.
        """
        if not self.quiet:
            self.failed(
                "database %r unavailable, answering 503/504 until it recovers: %s",
                self.name,
                _reason(error),
            )


def _reason(error: Exception) -> str:
    if isinstance(error, DatabaseTimeoutError):
        return str(error.detail)
    cause = error.__cause__ or error
    text = str(cause).strip().splitlines()
    if not text and isinstance(cause, TimeoutError):
        text = ["timed out"]
    return f"{type(cause).__name__}: {text[0] if text else ''}"


def _unavailable(detail: str) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(detail, retry_after=RETRY_AFTER)


def _timed_out(detail: str) -> DatabaseTimeoutError:
    return DatabaseTimeoutError(detail, retry_after=RETRY_AFTER)


def _is_statement_timeout(orig: BaseException | None) -> bool:
    if orig is None:
        return False
    if getattr(orig, "sqlstate", None) == _PG_CANCELED or getattr(orig, "pgcode", None) == (
        _PG_CANCELED
    ):
        return True
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    return bool(args) and args[0] in _MYSQL_TIMEOUTS


def _sqlite_outage(orig: BaseException | None) -> bool:
    text = str(orig).lower()
    return any(phrase in text for phrase in _SQLITE_OUTAGES)


def translate(error: BaseException, timeout: float | None = None) -> Exception | None:
    """Return the 503/504 error that `error` from the database stands for, or `None`.

    `timeout` is the pool's checkout timeout, quoted when the pool is exhausted.
    """
    if isinstance(error, DatabaseUnavailableError | DatabaseTimeoutError):
        return error
    if isinstance(error, PoolTimeoutError):
        waited = f" within {timeout:g} s" if timeout is not None else ""
        return _unavailable(f"the database is busy: no connection became free{waited}")
    if isinstance(error, DBAPIError):
        if _is_statement_timeout(error.orig):
            return _timed_out("the database did not answer in time (statement timeout)")
        if error.connection_invalidated:
            return _unavailable("the database connection was lost")
    return None


def _on_connect(outage: Outage) -> Any:
    def connect(dialect: Dialect, record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        del record
        deadline = running_deadline()
        try:
            if deadline is None:
                return dialect.connect(*cargs, **cparams)
            return _within(deadline.left(), dialect.connect, *cargs, **cparams)
        except (OSError, dialect.loaded_dbapi.Error) as exc:  # TimeoutError is an OSError
            error: Exception
            if deadline is not None and deadline.passed():
                error = deadline.error()
                outage.failed_with(error)
            else:
                error = _unavailable("the database is unreachable")
                outage.failed_with(_chained(error, exc))
            raise error from exc

    return connect


def _within(seconds: float, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call `function` (which awaits through SQLAlchemy's greenlet), `TimeoutError` past `seconds`.

    Called in SQLAlchemy's greenlet: `function` runs in a greenlet of its own, which
    the timeout cancels like any task.
    """
    if seconds <= 0:
        raise TimeoutError
    return await_only(asyncio.wait_for(greenlet_spawn(function, *args, **kwargs), seconds))


def _chained(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error


def _on_error(outage: Outage, is_sqlite: bool) -> Any:
    def handle_error(context: ExceptionContext) -> Exception | None:
        orig = context.original_exception
        error: Exception | None = None
        deadline = running_deadline()
        if (
            deadline is not None
            and deadline.expired
            and (context.is_disconnect or _is_statement_timeout(orig))
        ):
            # The deadline closed the connection, or had the statement cancelled.
            error = deadline.error()
            outage.failed_with(error)
            return error
        if _is_statement_timeout(orig):
            error = _timed_out("the database did not answer in time (statement timeout)")
        elif context.is_disconnect:
            error = _unavailable("the database connection was lost")
        elif is_sqlite and _sqlite_outage(orig):
            error = _unavailable(f"the database cannot be written: {orig}")
        if error is not None:
            outage.failed_with(_chained(error, orig))
        return error

    return handle_error


def install_hooks(engine: AsyncEngine, outage: Outage, *, is_sqlite: bool) -> None:
    """Attach the outage hooks of connecting and executing (module docstring) to `engine`."""
    sync_engine = engine.sync_engine
    event.listen(sync_engine, "do_connect", _on_connect(outage))
    event.listen(sync_engine, "handle_error", _on_error(outage, is_sqlite))


class TrackedSession(Session):
    """A `Session` that remembers the connections it uses, so a deadline can close them."""


@event.listens_for(TrackedSession, "after_begin")
def _remember(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    del transaction
    track_connection(session, connection)


def track_connection(session: Session, connection: Connection) -> None:
    """Let `session`'s deadline close `connection` (one it uses outside its transaction)."""
    session.info.setdefault(_CONNECTIONS, []).append(connection)


def translate_driver_error(error: Exception) -> Exception | None:
    """Return the 503/504 an error raised by asyncpg itself stands for.

    `None` when the server refused the statement (a constraint, a bad value: an error
    with a SQLSTATE other than a lost connection's or a timeout's), which means the
    statement changed nothing.
    """
    state = getattr(error, "sqlstate", None)
    if isinstance(state, str):
        if state == _PG_CANCELED:
            return _timed_out("the database did not answer in time (statement timeout)")
        if not state.startswith(("08", "57P")):  # connection exception, shutdown
            return None
    return _unavailable("the database connection was lost")


class Deadline:
    """Close a session's connections once `seconds` have passed (see the module docstring).

    Every running deadline of an event loop is watched by one timer (`_Watch`) rather
    than one timer each: starting and stopping a deadline is then a dict write and a
    delete, where a timer per request cost a heap entry, its cancellation and the
    loop's clean-up of cancelled timers.
    """

    __slots__ = ("ends", "expired", "seconds", "session", "stopped", "token", "watch")

    def __init__(self, session: AsyncSession, seconds: float) -> None:
        self.session = session
        self.seconds = seconds
        self.expired = False
        """Whether the deadline ran out."""
        self.watch: _Watch | None = None
        self.ends = 0.0
        """When (loop time) it runs out."""
        self.token: contextvars.Token[Deadline | None] | None = None
        self.stopped: list[Any] | None = None  # driver connections already cancelled

    def start(self) -> None:
        """Start counting; until `cancel`, this is the task's `running_deadline()`."""
        watch = self.watch = _Watch.of(asyncio.get_running_loop())
        self.ends = watch.add(self)
        self.token = _running.set(self)

    def cancel(self) -> None:
        """Stop counting (the session is done)."""
        if self.watch is not None:
            self.watch.deadlines.pop(self, None)
            self.watch = None
        token, self.token = self.token, None
        if token is not None:
            try:  # noqa: SIM105 - per request: no context manager object
                _running.reset(token)
            except ValueError:  # left in another context: the value stays, stopped
                pass

    def left(self) -> float:
        """Seconds until it runs out (0 once it has, or once its session is done)."""
        watch = self.watch
        if self.expired or watch is None:
            return 0.0
        now: float = watch.loop.time()
        return self.ends - now

    def passed(self) -> bool:
        """Whether it ran out, its timer having fired yet or not."""
        return self.left() <= _EARLY

    def expire(self) -> None:
        """Stop the session's statements and close its connections (the watch calls it).

        Called again while the request still holds the session, for connections that
        arrive late; each one is stopped once.
        """
        self.expired = True
        stopped = self.stopped
        if stopped is None:
            stopped = self.stopped = []
        connections: list[Connection] = self.session.info.get(_CONNECTIONS, [])
        for connection in connections:
            if connection.invalidated or connection.closed:
                continue
            driver = connection.connection.driver_connection
            if driver in stopped:
                continue
            stopped.append(driver)
            cancel_statement(driver)
            terminate(driver)

    def error(self) -> DatabaseTimeoutError:
        """Return the 504 to answer with."""
        return _timed_out(f"the database work took longer than {self.seconds:g} s")


_running: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "trivium.db.deadline", default=None
)
_EARLY = 0.001
"""A timeout set for the deadline may fire this much before the deadline's own timer."""


def running_deadline() -> Deadline | None:
    """Return the deadline of the request session the current task runs, if any.

    The pool (db/_pool.py) and the connect hook bound their waits by it.
    """
    deadline = _running.get()
    if deadline is None or deadline.watch is None:  # done (its session closed)
        return None
    return deadline


_RECHECK = 0.05
"""After a deadline ran out, how often its session is checked again for connections
still on their way (a pool wait, a connect)."""


class _Watch:
    """One event loop's running deadlines, behind one timer set for the earliest."""

    __slots__ = ("deadlines", "handle", "loop")

    _by_loop: ClassVar[weakref.WeakKeyDictionary[Any, _Watch]] = weakref.WeakKeyDictionary()
    _last: ClassVar[tuple[Any, _Watch | None]] = (None, None)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Held weakly: the watch is the loop's value in `_by_loop`, keyed weakly by it.
        self.loop = weakref.proxy(loop)
        self.deadlines: dict[Deadline, float] = {}
        """Each running deadline and when (loop time) it runs out."""
        self.handle: asyncio.TimerHandle | None = None
        """The timer, set for the earliest running deadline (`when()`)."""

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _Watch:
        """The watch of `loop` (a worker runs one loop: the last one is kept at hand)."""
        last, watch = cls._last
        if last is loop and watch is not None:
            return watch
        watch = cls._by_loop.get(loop)
        if watch is None:
            watch = cls._by_loop[loop] = cls(loop)
        cls._last = (loop, watch)
        return watch

    def add(self, deadline: Deadline) -> float:
        at: float = self.loop.time() + deadline.seconds
        self.deadlines[deadline] = at
        if self.handle is None or at < self.handle.when():
            self._arm(at)
        return at

    def _arm(self, at: float) -> None:
        if self.handle is not None:
            self.handle.cancel()
        self.handle = self.loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self.handle = None
        now = self.loop.time()
        due = [deadline for deadline, at in self.deadlines.items() if at <= now]
        for deadline in due:
            # Checked again shortly until the request lets go of the session.
            self.deadlines[deadline] = now + _RECHECK
            deadline.expire()
        if self.deadlines:
            self._arm(min(self.deadlines.values()))


class SessionGuard:
    """Bound a request session by its deadline and turn its outage errors into 503/504."""

    __slots__ = ("deadline", "outage", "pool_timeout", "session")

    def __init__(
        self,
        session: AsyncSession,
        seconds: float | None,
        outage: Outage,
        pool_timeout: float | None,
    ) -> None:
        self.session = session
        self.outage = outage
        self.pool_timeout = pool_timeout
        self.deadline: Deadline | None = None
        if seconds is not None:
            self.deadline = Deadline(session, seconds)
            self.deadline.start()

    def close(self) -> None:
        """Stop the deadline."""
        if self.deadline is not None:
            self.deadline.cancel()

    def _error(self, exc: BaseException) -> Exception | None:
        deadline = self.deadline
        if isinstance(exc, PoolTimeoutError):
            # The time went into waiting for a connection: the pool is busy (503), even
            # when the deadline cut that wait short.
            wait = self.pool_timeout
            if deadline is not None and (wait is None or wait > deadline.seconds):
                wait = deadline.seconds
            return translate(exc, wait)
        if deadline is not None and deadline.passed():
            return deadline.error()
        if not isinstance(exc, Exception):
            return None
        return translate(exc, self.pool_timeout)

    async def fail(self, exc: BaseException, *, rollback: bool) -> BaseException:
        """Clean the session up after `exc` and return the exception to raise.

        A connection that failed or outlived the deadline is discarded without a round
        trip (a rollback would wait on a stalled database); otherwise the transaction is
        rolled back when `rollback` is true.
        """
        error = self._error(exc)
        if error is None and rollback:
            try:
                await self.session.rollback()
            except Exception as second:
                error = self._error(second)
                if error is None:
                    raise
        if error is not None:
            with contextlib.suppress(Exception):
                await self.session.invalidate()
        if error is None:
            return exc
        if error is not exc:
            error.__cause__ = exc
            self.outage.failed_with(error)
        return error


@contextlib.asynccontextmanager
async def unbounded_statements(
    connection: AsyncConnection, statement_timeout: float | None
) -> AsyncIterator[None]:
    """Lift the server-side statement timeout on `connection` for the block (migrations)."""
    backend = connection.dialect.name
    if statement_timeout is None or backend not in ("postgresql", "mysql", "mariadb"):
        yield
        return
    if backend == "postgresql":
        # Reverted with the migration transaction, whatever its outcome; set again in each
        # transaction begun after a revision commits (one adding enum values does).
        await connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        sync = connection.sync_connection
        event.listen(sync, "begin", _unbounded_again)
        try:
            yield
        finally:
            event.remove(sync, "begin", _unbounded_again)
        return
    await connection.exec_driver_sql(mariadb_statement_timeout(0))
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await connection.exec_driver_sql(mariadb_statement_timeout(statement_timeout))


def _unbounded_again(connection: Connection) -> None:
    connection.exec_driver_sql("SET LOCAL statement_timeout = 0")


def respawned_in_outage(exc: Exception) -> bool:
    """Whether a worker replacing a dead one meets an outage at start-up.

    `trivium run` sets `TRIVIUM_WORKER_RESPAWNED=1` in a worker started after the server
    has served: failing its start-up would make the server stop every worker (a crash
    loop), so it serves through the outage instead, answering 503 until it ends. The
    first start still fails fast with one line.
    """
    from trivium.errors import ConfigurationError

    if isinstance(exc, ConfigurationError) and exc.code != "db-unreachable":
        return False
    return os.environ.get("TRIVIUM_WORKER_RESPAWNED") == "1"


def outage_cause(exc: Exception) -> Exception:
    """The driver's error behind a start-up failure, for the outage's log line."""
    cause = exc.__cause__
    return cause if isinstance(cause, Exception) else exc
