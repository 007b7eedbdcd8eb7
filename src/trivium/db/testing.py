"""Test databases for pytest: `pytest_plugins = ["trivium.db.testing"]` in a `conftest.py`.

Once per session the plugin creates a test database next to the configured one (a SQLite
file in a temporary folder, or `test_<name>` on the PostgreSQL or MariaDB server of
`settings.database_url`), applies the migrations, and drops it at the end. Each test
gets a fresh app built by the project's factory with the test settings, and runs in a
transaction rolled back afterwards (`Database.test_transaction`): nothing a test writes
is seen by the next one, and code that commits gets savepoints.

Configure it in `pyproject.toml` (or override the fixtures of the same names):

```toml
[tool.pytest.ini_options]
trivium_app = "blog.app:create_app"          # called with the test settings
trivium_settings = "blog.settings:Settings"  # default: trivium.conf:Settings
```

Fixtures: `test_settings` (session), `app`, `client` (an `AsyncTestClient` running the
app's lifespan), `db_session`, `user`, `user_client` (logged in as `user`). Async tests
run on anyio without a marker. `app.dependency_overrides` set in a test (or a fixture
taking `app`) apply to `client`.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import create_async_engine

from trivium.app import App
from trivium.conf import Settings
from trivium.db._database import Database
from trivium.db._database import async_url
from trivium.db._diagnose import connect_error
from trivium.db._libpq import libpq_translated
from trivium.db._migrations import Migrations
from trivium.errors import ConfigurationError
from trivium.testing import AsyncTestClient

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = [
    "TEST_PASSWORD",
    "anyio_backend",
    "app",
    "client",
    "db_session",
    "test_database_url",
    "test_settings",
    "trivium_settings",
    "user",
    "user_client",
]

TEST_PASSWORD = "a test password nobody guesses 7"  # noqa: S105 - a fixture's password
"""The password of the `user` fixture."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the `trivium_app` and `trivium_settings` ini options."""
    parser.addini("trivium_app", "the app factory, 'module:create_app', called with settings")
    parser.addini("trivium_settings", "the settings class, 'module:Settings'")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run `async def` tests on anyio without a marker."""
    for item in items:
        function = getattr(item, "function", None)
        if inspect.iscoroutinefunction(function) and item.get_closest_marker("anyio") is None:
            item.add_marker(pytest.mark.anyio)


def _import(target: str, option: str) -> Any:
    module_name, _, attribute = target.strip().partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(
            f"{option} = {target!r} is not an import string; write 'module:name'",
            "testing-import",
        )
    root = str(Path.cwd())
    if root not in sys.path:
        sys.path.insert(0, root)
    found: Any = importlib.import_module(module_name)
    for name in attribute.split("."):
        found = getattr(found, name)
    return found


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests and fixtures run on asyncio."""
    return "asyncio"


@pytest.fixture(scope="session")
def trivium_settings(pytestconfig: pytest.Config) -> Settings:
    """The project's settings as configured (the test database is derived from them)."""
    target = str(pytestconfig.getini("trivium_settings") or "trivium.conf:Settings")
    cls = _import(target, "trivium_settings")
    if not (isinstance(cls, type) and issubclass(cls, Settings)):
        raise ConfigurationError(
            f"trivium_settings = {target!r} is not a trivium.conf.Settings subclass",
            "testing-import",
        )
    return cls()


@pytest.fixture(scope="session")
def test_database_url(
    trivium_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Create the test database for the session and drop it at the end; yield its URL."""
    url = async_url(trivium_settings.database_url)
    if url.get_backend_name() == "sqlite":
        path = tmp_path_factory.mktemp("trivium-db") / "test.db"
        yield url.set(database=str(path)).render_as_string(hide_password=False)
        return
    if not url.database:
        raise ConfigurationError(
            f"the database URL {url.render_as_string()!r} names no database; the test "
            "database is named after it (test_<name>)",
            "testing-no-database",
        )
    name = f"test_{url.database}"
    test_url = url.set(database=name).render_as_string(hide_password=False)
    server = url.render_as_string(hide_password=False)
    anyio.run(_recreate, server, name, True)
    try:
        yield test_url
    finally:
        anyio.run(_recreate, server, name, False)


async def _recreate(url: str, name: str, create: bool) -> None:
    """Drop the database `name` if it exists and, with `create`, create it afresh.

    A server that cannot be reached or refuses the login fails the session in one line,
    as `trivium db` says it (`db-login-failed`, `db-unreachable`, `db-missing`).
    """
    server, options = libpq_translated(async_url(url), {})
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT", **options)
    quoted = engine.dialect.identifier_preparer.quote(name)
    problem = None
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
            if create:
                await connection.execute(text(f"CREATE DATABASE {quoted}"))
    except Exception as exc:
        problem = connect_error(server, exc)
        if problem is None:
            raise
    finally:
        await engine.dispose()
    if problem is not None:  # failed outside `except`: no driver traceback chained to it
        pytest.fail(f"the test database {name!r}: {problem.one_line()}", pytrace=False)


def _wanted(url: str) -> URL:
    """Return `url` as a `Database` made from it holds it."""
    return libpq_translated(async_url(url), {})[0]


def _factory(pytestconfig: pytest.Config) -> Callable[[Settings], App]:
    target = str(pytestconfig.getini("trivium_app") or "")
    if not target:
        raise ConfigurationError(
            "the trivium.db.testing plugin needs the app factory: set trivium_app = "
            "'module:create_app' in [tool.pytest.ini_options], or define an `app` fixture",
            "testing-no-app",
        )
    factory: Callable[[Settings], App] = _import(target, "trivium_app")
    return factory


@pytest.fixture(scope="session")
def test_settings(
    trivium_settings: Settings, test_database_url: str, pytestconfig: pytest.Config
) -> Settings:
    """The settings with the test database, which is migrated once here."""
    settings = trivium_settings.model_copy(update={"database_url": test_database_url})
    factory = _factory(pytestconfig) if pytestconfig.getini("trivium_app") else None
    if factory is not None:
        anyio.run(_migrate, factory(settings), test_database_url)
    return settings


async def _migrate(app: App, url: str) -> None:
    app.build()
    wanted = _wanted(url)
    for database in app.plugins_of(Database):
        if database.url != wanted:
            continue  # another database of the app: not the test one, never touched
        try:
            await Migrations(database).migrate()
            if not database.migrations.is_dir():
                await database.create_all()  # a project without migrations yet
        finally:
            await database.dispose()


@pytest.fixture
def app(test_settings: Settings, pytestconfig: pytest.Config) -> App:
    """A fresh app from the project's factory, on the test database."""
    return _factory(pytestconfig)(test_settings)


def _database(app: App, settings: Settings) -> Database:
    wanted = _wanted(settings.database_url)
    for database in app.plugins_of(Database):
        if database.url == wanted:
            return database
    raise ConfigurationError(
        f"the app has no Database on the test database {wanted!r}; build it with "
        "Database.from_settings(settings)",
        "testing-no-database",
    )


@pytest.fixture
async def client(app: App, test_settings: Settings) -> AsyncIterator[AsyncTestClient]:
    """An `AsyncTestClient` running `app`'s lifespan, inside a rolled-back transaction."""
    async with (
        AsyncTestClient(app) as test_client,
        _database(app, test_settings).test_transaction(),
    ):
        yield test_client


@pytest.fixture
async def db_session(
    app: App, test_settings: Settings, client: AsyncTestClient
) -> AsyncIterator[AsyncSession]:
    """A session in the test's transaction: what it commits, the app sees, until the test ends."""
    del client
    async with _database(app, test_settings).sessionmaker() as session:
        yield session


@pytest.fixture
async def user(db_session: AsyncSession) -> Any:
    """A user (`user@example.com`, password `TEST_PASSWORD`) committed in the test's transaction."""
    from trivium.auth import create_user

    created = await create_user(db_session, email="user@example.com", password=TEST_PASSWORD)
    await db_session.commit()
    return created


@pytest.fixture
async def user_client(app: App, client: AsyncTestClient, user: Any) -> AsyncTestClient:
    """`client`, logged in as `user` through the auth views' `POST /login`."""
    from trivium.auth import Auth

    base = app.plugin(Auth).token_url.rsplit("/", 1)[0]
    answer = await client.post(
        f"{base}/login", json={"identifier": user.email, "password": TEST_PASSWORD}
    )
    if answer.status_code != 200:
        raise AssertionError(f"logging in the test user failed: {answer.status_code} {answer.text}")
    return client
