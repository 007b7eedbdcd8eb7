"""Audit fixtures: every test runs on SQLite, and on PostgreSQL and MariaDB when configured.

`TRIVIUM_TEST_POSTGRES_URL` and `TRIVIUM_TEST_MYSQL_URL` name the servers (see
tests/db/conftest.py, whose `db` fixture these tests use); tables are created and dropped
around each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator

import pytest
import tests.audit.models  # noqa: F401 - the tables the tests create
from sqlalchemy.ext.asyncio import AsyncSession
from tests.db.conftest import anyio_backend
from tests.db.conftest import db

from trivium.audit import Audit
from trivium.db import Database

__all__ = ["anyio_backend", "db"]


@pytest.fixture
def audit(db: Database) -> Iterator[Audit]:
    """An `Audit` of `db` (not installed on an app)."""
    trail = Audit(db)
    yield trail
    trail.close()


@pytest.fixture
async def session(db: Database, audit: Audit) -> AsyncIterator[AsyncSession]:
    """A session on the audited `db` in the test's event loop; the engine is disposed afterwards."""
    del audit
    async with db.sessionmaker() as session:
        yield session
    await db.dispose()
