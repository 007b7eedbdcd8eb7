"""`Database`: one async SQLAlchemy engine and session factory, tied to an app's lifespan.

The engine is created when the app starts (or on first use outside an app) and disposed
at shutdown. `Database.session` is a generator dependency holding one transaction per
request: declared with `scope="function"` its teardown runs right after the handler
returns and before the response is sent, so the commit happens first and a failing
commit becomes an error response instead of a silently lost write.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import AsyncSessionTransaction
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine

from trivium.db._lookups import register_sqlite_functions
from trivium.db._model import Model
from trivium.db._pool import FairAsyncQueuePool
from trivium.di import Depends
from trivium.errors import ConfigurationError
from trivium.plugins import Plugin

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.engine import URL

    from trivium.app import App

__all__ = ["DEFAULT_POOL_SIZE", "DEFAULT_URL", "Database", "async_url", "atomic"]

DEFAULT_URL = "sqlite+aiosqlite:///./app.db"
DEFAULT_POOL_SIZE = 16
"""Connections a server database's pool keeps per worker process (`pool_size`)."""

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
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver is not None else parsed


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
        **engine_options: passed on to `sqlalchemy.ext.asyncio.create_async_engine`
            (`pool_size`, `connect_args`, ...).
    """

    def __init__(
        self,
        url: str | URL = DEFAULT_URL,
        *,
        name: str = "default",
        echo: bool = False,
        migrations: str | Path = "migrations",
        metadata: MetaData | None = None,
        **engine_options: Any,
    ) -> None:
        self.url = async_url(url)
        """The database URL, with its async driver."""
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
        self._apps: list[App] = []
        self._engine: AsyncEngine | None = None
        self._autocommit_engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._autocommit_sessionmaker: async_sessionmaker[AsyncSession] | None = None

    unique = False

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
            self._sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
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
            engine = self.autocommit_engine
            self._autocommit_sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        return self._autocommit_sessionmaker

    def _create_engine(self) -> AsyncEngine:
        options = dict(self.engine_options)
        if not self.is_sqlite:
            # First come, first served under load (see trivium/db/_pool.py), from a pool
            # kept open: no connect/close churn when requests outnumber connections.
            options.setdefault("poolclass", FairAsyncQueuePool)
            if options["poolclass"] is FairAsyncQueuePool:
                options.setdefault("pool_size", DEFAULT_POOL_SIZE)
                options.setdefault("max_overflow", 0)
        engine = create_async_engine(self.url, echo=self.echo, **options)
        if self.is_sqlite:
            _configure_sqlite(engine)
        return engine

    async def connect(self) -> None:
        """Create the engine and check that the database answers."""
        async with self.engine.connect():
            pass

    async def dispose(self) -> None:
        """Close every pooled connection; the next use creates a new engine."""
        engine, self._engine, self._sessionmaker = self._engine, None, None
        self._autocommit_sessionmaker = None
        self._autocommit_engine = None
        if engine is not None:
            await engine.dispose()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: App) -> AsyncIterator[dict[str, Any]]:
        """Connect at start-up and dispose of the engine at shutdown (the plugin's lifespan)."""
        del app
        await self.connect()
        try:
            yield {}
        finally:
            await self.dispose()

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

        They run with the project's own migrations (`trivium db migrate`); new project
        migrations depend on them, so a battery's tables exist first.

        Raises:
            ConfigurationError: the package cannot be found or has no `migrations/` folder.
        """
        for package in packages:
            self._included[package] = _package_migrations(package)

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
        async with self.sessionmaker() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    session.__trivium_scope__ = "function"  # type: ignore[attr-defined]

    async def autocommit_session(self) -> AsyncIterator[AsyncSession]:
        """Yield a session without a transaction: each statement commits on its own.

        For read-only handlers it saves the `BEGIN` and `COMMIT` round trips of `session`
        (as Django's default autocommit mode does). Changes still pending when the handler
        returns are flushed, statement by statement, before the response is sent; nothing
        is rolled back when the handler raises. Use `session` wherever writes must succeed
        or fail together.
        """
        async with self.autocommit_sessionmaker() as session:
            yield session
            if session.new or session.dirty or session.deleted:
                await session.flush()

    autocommit_session.__trivium_scope__ = "function"  # type: ignore[attr-defined]

    def depends(self, *, transaction: bool = True) -> Depends:
        """Return the session dependency for `Annotated[AsyncSession, ...]`.

        Args:
            transaction: one transaction per request (`session`, the default), or
                autocommit for read-only handlers (`autocommit_session`).
        """
        call = self.session if transaction else self.autocommit_session
        return Depends(call, scope="function")

    def atomic(self, session: AsyncSession) -> AsyncSessionTransaction:
        """Open a savepoint in `session` (see `trivium.db.atomic`)."""
        return atomic(session)


def _package_migrations(package: str) -> Path:
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


def _configure_sqlite(engine: AsyncEngine) -> None:
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
