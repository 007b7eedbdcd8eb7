"""Auth fixtures: every auth test runs on SQLite, and on PostgreSQL and MariaDB when configured.

The auth tables have fixed names (`auth_user`, `auth_group`, ...), so the server backends
do not share the configured database with other runs: each pytest run creates its own
database (`test_auth_<run>`) on the server once, creates and drops the tables around each
test inside it, and drops the database at the end of the run.

Set `TRIVIUM_TEST_POSTGRES_URL` / `TRIVIUM_TEST_MYSQL_URL` as for `tests/db` (the user
must be allowed to `CREATE DATABASE`).

Fixtures:
    `db`: a `trivium.db.Database` (engine not started) with the tables the test's module
        uses created (see `tests/tables.py`).
    `session`: an `AsyncSession` on `db` in the test's event loop.
    `db_url`: the plain URL of `db` (for CLI tests and apps built in a tmp module).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import create_async_engine
from tests.tables import create_used_tables
from tests.tables import drop_existing_tables

import trivium.auth  # noqa: F401 - registers the auth tables on Model.metadata
from trivium.db import Database
from trivium.db import async_url

RUN = uuid.uuid4().hex[:8]
"""Suffix of this run's server databases."""

BACKENDS = {
    "postgresql": "TRIVIUM_TEST_POSTGRES_URL",
    "mysql": "TRIVIUM_TEST_MYSQL_URL",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _server_statement(url: str, statement: str) -> None:
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def _server_databases() -> Iterator[dict[str, str]]:
    """This run's private database URL per configured server backend (created lazily)."""
    created: dict[str, str] = {}
    yield created
    for backend, url in created.items():
        name = make_url(url).database
        anyio.run(_server_statement, os.environ[BACKENDS[backend]], f"DROP DATABASE {name}")


def _private_url(backend: str, created: dict[str, str]) -> str:
    if backend in created:
        return created[backend]
    variable = BACKENDS[backend]
    server = os.environ.get(variable, "")
    if not server:
        pytest.skip(f"{backend} tests need {variable} (e.g. {backend}://user@127.0.0.1/test)")
    # Unique per fixture instance: tests/admin re-uses this fixture in its own conftest.
    name = f"test_auth_{RUN}_{uuid.uuid4().hex[:6]}"
    anyio.run(_server_statement, server, f"CREATE DATABASE {name}")
    created[backend] = make_url(server).set(database=name).render_as_string(hide_password=False)
    return created[backend]


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, _server_databases: dict[str, str]
) -> str:
    """A database URL on each available backend, private to this run (tables not created)."""
    backend: str = request.param
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'auth.db'}"
    return _private_url(backend, _server_databases)


@pytest.fixture
def db(request: pytest.FixtureRequest, db_url: str) -> Iterator[Database]:
    """A `Database` on each available backend with the tables the test's module uses.

    See `tests/tables.py`: the auth tables, the test module's own models' and those of
    its package's `conftest.py`, not every model of the run.
    """
    database = Database(db_url)
    anyio.run(create_used_tables, database, request.module)
    yield database
    anyio.run(drop_existing_tables, database)


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    """A session on `db` in the test's event loop; the engine is disposed afterwards."""
    async with db.sessionmaker() as session:
        yield session
    await db.dispose()
