"""`Database`: one async SQLAlchemy engine and session factory, tied to an app's lifespan.

The engine is created when the app starts (or on first use outside an app) and disposed
at shutdown. `Database.session` is a generator dependency holding one transaction per
request: declared with `scope="function"` its teardown runs right after the handler
returns and before the response is sent, so the commit happens first and a failing
commit becomes an error response instead of a silently lost write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from types import EllipsisType
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import AsyncSessionTransaction
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from trivium.db._commit import close
from trivium.db._commit import commit
from trivium.db._diagnose import checked_url
from trivium.db._diagnose import connect_error
from trivium.db._engine import bounded_options
from trivium.db._engine import configure_sqlite
from trivium.db._engine import package_migrations
from trivium.db._engine import seconds as seconds_option
from trivium.db._libpq import libpq_translated
from trivium.db._model import Model
from trivium.db._outage import DatabaseUnavailableError
from trivium.db._outage import Outage
from trivium.db._outage import SessionGuard
from trivium.db._outage import TrackedSession
from trivium.db._outage import install_hooks
from trivium.db._outage import outage_cause
from trivium.db._outage import respawned_in_outage
from trivium.db._pool import CLOSE_GRACE
from trivium.db._pool import Closing
from trivium.db._pool import FairAsyncQueuePool
from trivium.db._pool import install_pool_hooks
from trivium.db._prepared import PreparedQuery
from trivium.di import Depends
from trivium.errors import ConfigurationError
from trivium.plugins import Plugin

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy import Select
    from sqlalchemy.engine import URL

    from trivium.app import App
    from trivium.conf import Settings

__all__ = ["DEFAULT_POOL_SIZE", "DEFAULT_URL", "Database", "async_url", "atomic"]

logger = logging.getLogger("trivium.db")

DEFAULT_URL = "sqlite+aiosqlite:///./app.db"
DEFAULT_POOL_SIZE = 16
"""Connections a server database's pool keeps per worker process (`pool_size`)."""
_CONNECT_TIMEOUT = 60.0
"""Seconds connecting at start-up may take when `timeout=None` (asyncpg's default)."""

# Plain URLs (as a PaaS or docker-compose hands them out) get the async driver trivium tests.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mariadb+aiomysql",
}


def async_url(url: str | URL) -> URL:
    """Return `url` with an async driver: `postgresql://` becomes `postgresql+asyncpg://`.

    URLs that already name a driver are returned unchanged.
    """
    return checked_url(url, _ASYNC_DRIVERS)


def atomic(session: AsyncSession) -> AsyncSessionTransaction:
    """Open a savepoint in `session`; an error inside rolls back only that block.

    Use it as `async with atomic(session):`. Blocks nest; each one is a `SAVEPOINT` inside the request's transaction.
    """
    return session.begin_nested()


class Database(Plugin):
    """An async database: engine, session factory and a per-request session dependency.

    ```python
    db = Database("postgresql://app@localhost/app")
    app = App(plugins=[db])  # or: db.init_app(app)
    Session = Annotated[AsyncSession, db.depends()]
    ```

    As a plugin it connects at start-up, disposes of its engine at shutdown and applies
    the migrations other plugins ask for (`Plugin.migration_folders`). An app may hold
    several, each with its own `name`; `app.plugins_of(Database)` lists them.

    Server databases (PostgreSQL, MySQL/MariaDB) get a pool of `DEFAULT_POOL_SIZE`
    connections kept open, with no overflow connections: under more concurrent
    requests than connections, requests wait their turn (first come, first served)
    instead of opening and closing a connection each. Pass `pool_size=`/`max_overflow=`
    to change it.

    Args:
        url: the SQLAlchemy URL; a plain `postgresql://`, `mysql://` or `sqlite://`
            URL is given its async driver (asyncpg, aiomysql, aiosqlite).
        name: the name of this database among the app's (`trivium db --database NAME`);
            give each database of an app its own.
        echo: log every SQL statement (SQLAlchemy's `echo`).
        migrations: the project's migrations directory (revision files); a relative
            path is taken from the working directory, so prefer an absolute one such as
            `Path(__file__).parent / "migrations"`.
        metadata: the models the migrations follow (default: every `Model`).
        timeout: seconds a request's database work may take, from its session's start to
            its commit, pool wait, ping and connecting included; past it the server is
            asked to cancel the running statement, the request gets `504` and its
            connection is closed (docs/reliability.md). `None`: no deadline.
            `db.depends(timeout=...)` changes it for one route. Connecting at start-up
            gives up after it too. The pool wait (`pool_timeout`) defaults to half of it.
        statement_timeout: seconds the server lets one statement run (PostgreSQL
            `statement_timeout`, MariaDB `max_statement_time`); longer ones are cancelled
            and answered `504`. Migrations are not bound by it. `None`: no limit.
        ping_after: a pooled connection idle for longer than this many seconds is pinged
            before use and replaced if it does not answer (connections whose socket was
            closed are always replaced). `None`: never ping.
        **engine_options: passed on to `sqlalchemy.ext.asyncio.create_async_engine`
            (`pool_size`, `connect_args`, ...).
    """

    def __init__(  # noqa: PLR0913 - keyword settings of one object, documented above
        self,
        url: str | URL = DEFAULT_URL,
        *,
        name: str = "default",
        echo: bool = False,
        migrations: str | Path = "migrations",
        metadata: MetaData | None = None,
        timeout: float | None = 10.0,
        statement_timeout: float | None = 30.0,
        ping_after: float | None = 30.0,
        **engine_options: Any,
    ) -> None:
        self.url, engine_options = libpq_translated(async_url(url), engine_options)
        """The database URL, with its async driver (libpq's parameters in `connect_args`)."""
        self.name = name
        """The name the database is registered under."""
        self.echo = echo
        """Whether SQL statements are logged."""
        self.engine_options = engine_options
        """Extra options for `create_async_engine`."""
        self.migrations = Path(migrations)
        """The project's migrations directory."""
        self.metadata: MetaData = Model.metadata if metadata is None else metadata
        """The models that `create_all`, `drop_all` and the migrations work on."""
        self.version_table = "alembic_version"
        """The table that records the applied migrations; set it before migrating to rename it."""
        self._included: dict[str, Path] = {}
        # Facts of the engine that every request session reads, fixed when it is created.
        self._pool_wait: float | None = None
        self._asyncpg_lone = False
        self._closing: Closing | None = None
        self._apps: list[App] = []
        self.timeout = seconds_option("timeout", timeout)
        """Deadline of a request's database work, in seconds (`None`: none)."""
        self.statement_timeout = seconds_option("statement_timeout", statement_timeout)
        """Server-side limit on one statement, in seconds (`None`: none)."""
        self.ping_after = seconds_option("ping_after", ping_after)
        """Idle seconds after which a pooled connection is pinged before use."""
        self.outage = Outage(name)
        """Logs this database's outages, once when one starts and once when it ends."""
        self.session_class: type[Session] = type(
            "Session", (TrackedSession,), {"__module__": __name__, "__qualname__": "Session"}
        )
        """The (sync) `Session` class of this database's sessions, its own subclass per
        database: listen to SQLAlchemy session events for this database only with
        `event.listen(db.session_class, "before_flush", ...)` (`trivium.audit` does)."""
        self._session_calls: dict[tuple[bool, float | None], Any] = {}
        self._engine: AsyncEngine | None = None
        self._autocommit_engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._autocommit_sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._pinned = False

    unique = False

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> Database:
        """Return the database `settings.database_url` names; `options` as the constructor's.

        ```python
        db = Database.from_settings(settings, migrations=Path(__file__).parent / "migrations")
        ```
        """
        return cls(settings.database_url, **options)

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r}, name={self.name!r})"

    @property
    def migration_locations(self) -> dict[str, Path]:
        """Migration directories of batteries, by package name.

        Those given to `include_migrations`, and those the plugins of the apps this
        database is installed on ask for (`Auth`: its tables; a `DatabaseStore`: its own).
        """
        locations = dict(self._included)
        for app in self._apps:
            for plugin in app.plugins:
                locations.update(plugin.migration_folders(self))
        return locations

    @property
    def is_sqlite(self) -> bool:
        """Whether this is a SQLite database."""
        return self.url.get_backend_name() == "sqlite"

    @property
    def engine(self) -> AsyncEngine:
        """The async engine, created on first use."""
        if self._engine is None:
            self._engine = self._create_engine()
        return self._engine

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """The session factory (`expire_on_commit=False`, as async code needs)."""
        if self._sessionmaker is None:
            self._sessionmaker = async_sessionmaker(
                self.engine, expire_on_commit=False, sync_session_class=self.session_class
            )
        return self._sessionmaker

    @property
    def autocommit_engine(self) -> AsyncEngine:
        """The engine in autocommit mode: each statement commits alone, no `BEGIN` round trip.

        It shares the engine's pool. For single reads done on every request (the logged-in
        user), where a transaction would only add round trips.
        """
        if self._autocommit_engine is None:
            self._autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return self._autocommit_engine

    @property
    def autocommit_sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """A session factory whose statements each commit on their own (no `BEGIN`)."""
        if self._autocommit_sessionmaker is None:
            self._autocommit_sessionmaker = async_sessionmaker(
                self.autocommit_engine,
                expire_on_commit=False,
                sync_session_class=self.session_class,
            )
        return self._autocommit_sessionmaker

    def prepare(self, statement: Select[Any]) -> PreparedQuery:
        """Compile a `SELECT` read on every request into a `PreparedQuery`.

        `await query.first(**params)` returns its first row without an ORM session or a
        transaction; on PostgreSQL it runs as a driver-prepared statement on a pooled
        connection (see docs/database.md, "Hot reads").
        """
        return PreparedQuery(self, statement)

    def _create_engine(self) -> AsyncEngine:
        options = dict(self.engine_options)
        if not self.is_sqlite:
            # First come, first served under load (see trivium/db/_pool.py), from a pool
            # kept open: no connect/close churn when requests outnumber connections.
            options.setdefault("poolclass", FairAsyncQueuePool)
            if options["poolclass"] is FairAsyncQueuePool:
                options.setdefault("pool_size", DEFAULT_POOL_SIZE)
                options.setdefault("max_overflow", 0)
            poolclass = options["poolclass"]
            if isinstance(poolclass, type) and issubclass(poolclass, QueuePool):
                options.setdefault("pool_timeout", self.pool_timeout)
            bounded_options(self.url, options, self.timeout, self.statement_timeout)
        engine = create_async_engine(self.url, echo=self.echo, **options)
        if self.is_sqlite:
            configure_sqlite(engine)
        self._pool_wait = self.pool_timeout
        self._asyncpg_lone = (
            self.url.get_driver_name() == "asyncpg" and "isolation_level" not in self.engine_options
        )
        install_hooks(engine, self.outage, is_sqlite=self.is_sqlite)
        self._closing = install_pool_hooks(
            engine,
            self.outage,
            is_sqlite=self.is_sqlite,
            ping_after=self.ping_after,
            ping_timeout=min(self.timeout or 5.0, 5.0),
        )
        return engine

    @property
    def pool_timeout(self) -> float | None:
        """Seconds a request waits for a pooled connection before a 503 (busy).

        Half the `timeout` unless given, so a request that waited still has time for its
        work, and an exhausted pool answers its 503 before the deadline's 504.
        """
        if self.is_sqlite:
            return None
        default = 30.0 if self.timeout is None else self.timeout / 2
        value: float | None = self.engine_options.get("pool_timeout", default)
        return value

    async def connect(self) -> None:
        """Create the engine and check that the database answers, within `timeout` seconds.

        Raises:
            ConfigurationError: the database does not exist (`db-missing`), refuses the
                login (`db-login-failed`) or cannot be reached (`db-unreachable`: refused,
                a host name that does not resolve, no answer in time, a TLS failure).
        """
        # One line says why connecting failed: no outage line of the pool before it, and
        # a server that accepts and never answers fails like one that refuses.
        self.outage.quiet = True
        try:
            async with asyncio.timeout(self.timeout or _CONNECT_TIMEOUT), self.engine.connect():
                pass
        except Exception as exc:
            problem = self.connect_problem(exc)
            if problem is None:
                raise
            raise problem from exc
        finally:
            self.outage.quiet = False

    def connect_problem(self, exc: BaseException) -> ConfigurationError | None:
        """Say in one line why connecting failed, or `None` if `exc` is not a common case.

        The common cases: the server refused the login (`db-login-failed`), the database
        does not exist (`db-missing`), no server answers (`db-unreachable`). Commands use
        it to print one line instead of the driver's traceback.
        """
        return connect_error(self.url, exc, timeout=self.timeout or _CONNECT_TIMEOUT)

    async def dispose(self) -> None:
        """Close every pooled connection; the next use creates a new engine.

        It takes at most `CLOSE_GRACE` (2) seconds: connections not closed politely by
        then, or all of them during an outage, are closed without a word to the server.
        """
        engine, self._engine, self._sessionmaker = self._engine, None, None
        self._autocommit_sessionmaker = None
        self._autocommit_engine = None
        if engine is not None:
            if self._closing is not None:
                self._closing.start(CLOSE_GRACE if self.outage.down_since is None else 0.0)
            await engine.dispose()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: App) -> AsyncIterator[dict[str, Any]]:
        """Connect at start-up and dispose of the engine at shutdown (the plugin's lifespan).

        Unapplied migrations are logged as a warning at start-up: the app serves, but
        requests that use the new tables or columns fail until `trivium db migrate`.
        """
        del app
        try:
            await self.connect()
        except (ConfigurationError, DatabaseUnavailableError) as exc:
            # A worker replacing a dead one serves through an outage (reliability.md).
            if not respawned_in_outage(exc):
                raise
            self.outage.failed_with(outage_cause(exc))  # the one line; "available again" later
        else:
            await self._warn_pending()
        try:
            yield {}
        finally:
            await self.dispose()

    async def pending_migrations(self) -> list[str]:
        """Return the ids of the revisions the database has not applied.

        Empty when the project has no revision files of its own (a database set up with
        `create_all`). Used at start-up and by `trivium.observability`'s `/readyz`.
        """
        folder = self.migrations.expanduser().resolve()
        if not folder.is_dir() or not any(
            not path.name.startswith("__") for path in folder.glob("*.py")
        ):
            return []
        from trivium.db._migrations import Migrations

        return await Migrations(self).pending()

    async def _warn_pending(self) -> None:
        try:
            pending = await self.pending_migrations()
        except Exception as exc:  # noqa: BLE001 - a failed check must not stop the app
            logger.warning("could not check the migrations of database %r: %s", self.name, exc)
            return
        if pending:
            logger.warning(
                "DATABASE %r HAS %d UNAPPLIED MIGRATION(S) (%s): requests using the new "
                "tables or columns will fail until you run: trivium db migrate",
                self.name,
                len(pending),
                ", ".join(pending),
            )

    async def create_all(self, metadata: MetaData | None = None) -> None:
        """Create the missing tables of `metadata` (default: the database's `metadata`).

        Handy for tests and first steps; real projects evolve their schema with migrations.
        """
        metadata = self.metadata if metadata is None else metadata
        async with self.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)

    async def drop_all(self, metadata: MetaData | None = None) -> None:
        """Drop the tables of `metadata` (default: the database's `metadata`) that exist."""
        metadata = self.metadata if metadata is None else metadata
        async with self.engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)

    def include_migrations(self, *packages: str) -> None:
        """Apply the migrations a package ships in its `migrations/` folder, e.g. `"trivium.auth"`.

        They run with the project's own migrations (`trivium db migrate`); project revisions
        with foreign keys to a battery's tables depend on it, so those tables exist first.

        Raises:
            ConfigurationError: the package cannot be found or has no `migrations/` folder.
        """
        for package in packages:
            self._included[package] = package_migrations(package)

    def init_app(self, app: App) -> None:
        """Install the database on `app` (`app.install(db)`); a second call is a no-op.

        Raises:
            ConfigurationError: another database of `app` already has this name
                (`db-duplicate-name`).
        """
        if not any(plugin is self for plugin in app.plugins):
            app.install(self)

    def setup(self, app: App) -> None:
        """Check that no other database of `app` has this name.

        Raises:
            ConfigurationError: one has (`db-duplicate-name`).
        """
        if any(other.name == self.name for other in app.plugins_of(Database)):
            raise ConfigurationError(
                f"a database named {self.name!r} is already bound to this app; "
                "give each Database its own name=",
                "db-duplicate-name",
            )
        self._apps.append(app)

    async def session(self) -> AsyncIterator[AsyncSession]:
        """Yield a session in a transaction: commit if the handler succeeds, else roll back.

        `Depends(db.session)` (or `db.depends()`) commits before the response is sent: the
        method declares `__trivium_scope__ = "function"`, so a failed commit becomes an
        error response instead of a lost write after a 200.
        """
        async with self._open(transaction=True, deadline=self.timeout) as session:
            yield session

    session.__trivium_scope__ = "function"  # type: ignore[attr-defined]

    async def autocommit_session(self) -> AsyncIterator[AsyncSession]:
        """Yield a session without a transaction: each statement commits on its own.

        For read-only handlers it saves the `BEGIN` and `COMMIT` round trips of `session`
        (as Django's default autocommit mode does). Changes still pending when the handler
        returns are flushed, statement by statement, before the response is sent; nothing
        is rolled back when the handler raises. Use `session` wherever writes must succeed
        or fail together.
        """
        async with self._open(transaction=False, deadline=self.timeout) as session:
            yield session

    autocommit_session.__trivium_scope__ = "function"  # type: ignore[attr-defined]

    def depends(
        self, *, transaction: bool = True, timeout: float | EllipsisType | None = ...
    ) -> Depends:
        """Return the session dependency for `Annotated[AsyncSession, ...]`.

        Args:
            transaction: one transaction per request (`session`, the default), or
                autocommit for read-only handlers (`autocommit_session`).
            timeout: this route's deadline for its database work in seconds, instead
                of the database's `timeout`; `None` for no deadline.

        Raises:
            ConfigurationError: `timeout` is not a positive number of seconds or `None`
                (`db-timeout`).
        """
        if timeout is ...:
            call: Any = self.session if transaction else self.autocommit_session
            return Depends(call, scope="function")
        seconds = seconds_option("timeout", timeout)
        key = (transaction, seconds)
        call = self._session_calls.get(key)
        if call is None:
            call = self._session_calls[key] = self._session_call(transaction, seconds)
        return Depends(call, scope="function")

    def _session_call(self, transaction: bool, timeout: float | None) -> Any:
        async def session() -> AsyncIterator[AsyncSession]:
            async with self._open(transaction=transaction, deadline=timeout) as session:
                yield session

        session.__trivium_scope__ = "function"  # type: ignore[attr-defined]
        session.__qualname__ = f"Database.session(timeout={timeout!r})"
        return session

    @property
    def _lone_autocommit(self) -> bool:
        # A lone new row skips BEGIN/COMMIT (db/_commit.py) on PostgreSQL, where setting
        # autocommit costs no round trip, unless the app chose an isolation level or a
        # test transaction holds every session on one connection.
        return self._asyncpg_lone and not self._pinned

    @contextlib.asynccontextmanager
    async def _open(
        self, *, transaction: bool, deadline: float | None
    ) -> AsyncIterator[AsyncSession]:
        """Yield a request session bounded by `deadline` (see `session`, `autocommit_session`)."""
        maker = self.sessionmaker if transaction else self.autocommit_sessionmaker
        session = maker()
        try:
            guard = SessionGuard(session, deadline, self.outage, self._pool_wait)
            try:
                yield session
                if transaction:
                    await commit(session, lone_autocommit=self._lone_autocommit)
                elif session.new or session.dirty or session.deleted:
                    await session.flush()
            except BaseException as exc:  # noqa: BLE001 - cleaned up and re-raised
                raise await guard.fail(exc, rollback=transaction)  # noqa: B904 - chained in fail
            finally:
                guard.close()
        finally:
            await close(session)

    def atomic(self, session: AsyncSession) -> AsyncSessionTransaction:
        """Open a savepoint in `session` (see `trivium.db.atomic`)."""
        return atomic(session)

    @contextlib.asynccontextmanager
    async def test_transaction(self) -> AsyncIterator[AsyncConnection]:
        """Run everything this database does in one transaction, rolled back at the end.

        For tests (the `trivium.testing.pytest` plugin uses it around each test):
        request sessions, stores and hot reads all use one connection; code that commits
        gets savepoints. Requests must come one at a time (as test clients send them).

        Raises:
            ConfigurationError: the database is already in a test transaction
                (`db-test-transaction`).
        """
        from trivium.db._pinned import PinnedEngine
        from trivium.db._pinned import pinned_sessionmaker

        if self._pinned:
            raise ConfigurationError(
                f"{self!r} is already in a test transaction; nest savepoints with atomic()",
                "db-test-transaction",
            )
        engine = self.engine
        saved = (self._autocommit_engine, self._sessionmaker, self._autocommit_sessionmaker)
        async with engine.connect() as connection:
            transaction = await connection.begin()
            shim: Any = PinnedEngine(engine, connection)
            maker = pinned_sessionmaker(connection, TrackedSession)
            self._engine, self._autocommit_engine = shim, shim
            self._sessionmaker = self._autocommit_sessionmaker = maker
            self._pinned = True
            try:
                yield connection
            finally:
                self._pinned = False
                self._engine = engine
                self._autocommit_engine, self._sessionmaker, self._autocommit_sessionmaker = saved
                if transaction.is_active:
                    await transaction.rollback()
