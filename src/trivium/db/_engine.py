"""Helpers of `Database`'s engine: its options, SQLite's settings, its driver connections.

SQLite needs explicit transactions for savepoints to work and foreign keys switched on
per connection; `Database` applies `configure_sqlite` to each SQLite engine it creates.
`bounded_options` gives a server database's connections the timeouts of
docs/reliability.md. `terminate` and `cancel_statement` act on a driver's connection
directly, without the round trip to the server that SQLAlchemy's own close would make
(the server may be stalled).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import math
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from trivium.db._lookups import register_sqlite_functions
from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from sqlalchemy.engine import URL

__all__ = [
    "bounded_options",
    "cancel_statement",
    "configure_sqlite",
    "mariadb_statement_timeout",
    "package_migrations",
    "seconds",
    "terminate",
]

_CANCEL_WAIT = 5.0
"""Seconds a cancel request may take to reach the server before it is given up."""
_CANCELS = 32
"""Cancel requests under way at most (a stalled server answers none of them)."""


def seconds(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise ConfigurationError(
            f"{name}={value!r} is not a number of seconds; use a positive number, or None "
            "for no limit",
            "db-timeout",
        )
    return float(value)


def package_migrations(package: str) -> Path:
    """Return the `migrations/` folder inside `package`, without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            f"include_migrations({package!r}): no package named {package!r} can be imported; "
            "check the spelling and that it is installed",
            "db-migrations-package",
        )
    for location in spec.submodule_search_locations:
        folder = Path(location) / "migrations"
        if folder.is_dir():
            return folder.resolve()
    raise ConfigurationError(
        f"include_migrations({package!r}): the package has no 'migrations' folder; "
        "a package ships its revision files in <package>/migrations/",
        "db-migrations-package",
    )


def configure_sqlite(engine: AsyncEngine) -> None:
    """Make SQLite transactions real: explicit `BEGIN IMMEDIATE`, savepoints, foreign keys.

    Python's sqlite3 driver issues `BEGIN` itself, lazily and not before every statement,
    which breaks `SAVEPOINT`; SQLAlchemy's documented recipe takes over instead. `IMMEDIATE`
    takes the write lock at the start, so concurrent read-modify-write transactions queue
    up (SQLite has one writer anyway) rather than fail with "database is locked".
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        del connection_record
        dbapi_connection.isolation_level = None
        # Unicode-aware lower() for the case-insensitive lookups (see _lookups.py).
        register_sqlite_functions(dbapi_connection)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def bounded_options(
    url: URL, options: dict[str, Any], timeout: float | None, statement_timeout: float | None
) -> None:
    """Bound connecting and each statement in `options["connect_args"]` (docs/reliability.md)."""
    connect_args = dict(options.get("connect_args", {}))
    backend = url.get_backend_name()
    if backend == "postgresql" and url.get_driver_name() == "asyncpg":
        if timeout is not None:
            connect_args.setdefault("timeout", timeout)
        if statement_timeout is not None:
            settings = dict(connect_args.get("server_settings", {}))
            settings.setdefault("statement_timeout", str(int(statement_timeout * 1000)))
            connect_args["server_settings"] = settings
    elif backend == "postgresql":  # psycopg: libpq's parameters
        if timeout is not None:
            connect_args.setdefault("connect_timeout", max(1, math.ceil(timeout)))
        if statement_timeout is not None:
            _libpq_statement_timeout(connect_args, url, statement_timeout)
    elif backend in ("mysql", "mariadb"):
        if timeout is not None:
            connect_args.setdefault("connect_timeout", max(1, round(timeout)))
        if statement_timeout is not None:
            connect_args.setdefault("init_command", mariadb_statement_timeout(statement_timeout))
    options["connect_args"] = connect_args


def _libpq_statement_timeout(connect_args: dict[str, Any], url: URL, seconds: float) -> None:
    """Add `-c statement_timeout=...` to libpq's `options`, keeping the URL's own options."""
    given = connect_args.get("options", url.query.get("options", ""))
    current = given if isinstance(given, str) else " ".join(given)
    if "statement_timeout" not in current:
        setting = f"-c statement_timeout={int(seconds * 1000)}"
        connect_args["options"] = f"{current} {setting}".strip()


def mariadb_statement_timeout(seconds: float) -> str:
    """Return the statement setting MariaDB's `max_statement_time`, ignored by MySQL."""
    # `/*M! ... */` is run by MariaDB only; MySQL has no max_statement_time.
    return f"SET @trivium = 1 /*M!, max_statement_time = {seconds:g} */"


def terminate(driver: Any) -> None:
    """Close a driver connection's socket now, without talking to the server."""
    kill = getattr(driver, "terminate", None)  # asyncpg
    if callable(kill):
        kill()
        return
    writer = getattr(driver, "_writer", None)  # aiomysql
    if writer is not None:
        writer.transport.abort()
        return
    inner = getattr(driver, "_conn", None)  # aiosqlite: stop the running statement
    interrupt = getattr(inner, "interrupt", None)
    if callable(interrupt):
        interrupt()


_cancelling: set[asyncio.Future[Any]] = set()


def cancel_statement(driver: Any) -> None:
    """Ask the server to stop the statement `driver` runs, without waiting for it.

    Closing the socket does not stop a running statement: PostgreSQL notices a client
    gone only when it has something to send (MariaDB checks now and then), so without
    this a statement the deadline cut off would keep its backend busy until
    `statement_timeout`, and retries would pile up backends. The request goes on a
    connection of its own: PostgreSQL's cancel request (as psql's Ctrl-C), MariaDB's
    and MySQL's `KILL QUERY`. A server that does not take it within `_CANCEL_WAIT`
    seconds is left alone.
    """
    if len(_cancelling) >= _CANCELS:
        return
    request = _cancel_request(driver)
    if request is None:
        return
    task = asyncio.ensure_future(_send_cancel(request))
    _cancelling.add(task)
    task.add_done_callback(_cancelling.discard)


def _cancel_request(driver: Any) -> Awaitable[Any] | None:
    protocol = getattr(driver, "_protocol", None)
    params = getattr(driver, "_params", None)
    if protocol is not None and params is not None:  # asyncpg: its CancelRequest sender
        connect_utils = importlib.import_module("asyncpg.connect_utils")
        return connect_utils._cancel(  # type: ignore[no-any-return]
            loop=asyncio.get_running_loop(),
            addr=driver._addr,
            params=params,
            backend_pid=protocol.backend_pid,
            backend_secret=protocol.backend_secret,
        )
    cancel_safe = getattr(driver, "cancel_safe", None)  # psycopg 3.2+
    if callable(cancel_safe):
        return cancel_safe()  # type: ignore[no-any-return]
    thread_id = getattr(driver, "thread_id", None)  # aiomysql
    if callable(thread_id) and hasattr(driver, "_password"):
        return _kill_query(driver, int(thread_id()))
    return None


async def _kill_query(driver: Any, thread: int) -> None:
    aiomysql = importlib.import_module("aiomysql")
    connection = await aiomysql.connect(
        host=driver.host,
        port=driver.port,
        user=driver.user,
        password=driver._password,
        unix_socket=driver.unix_socket,
        ssl=driver._ssl_context,
        connect_timeout=_CANCEL_WAIT,
    )
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(f"KILL QUERY {thread}")
    finally:
        connection.close()


async def _send_cancel(request: Awaitable[Any]) -> None:
    # A cancel that fails leaves statement_timeout to stop the statement.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(request, _CANCEL_WAIT)
