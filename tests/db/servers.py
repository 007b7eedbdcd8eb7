"""The database a migration test runs on, and the statements it runs by hand.

Migration tests write an app module to `tmp_path` and drive `trivium db` on it, once per
backend: a SQLite file in `tmp_path`, and PostgreSQL and MariaDB when their variables are
set (a test is skipped otherwise). Table names carry a per-test suffix; the test drops
them afterwards with `drop_tables`.
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text

from trivium.db import Database

BACKENDS = {"postgresql": "TRIVIUM_TEST_POSTGRES_URL", "mysql": "TRIVIUM_TEST_MYSQL_URL"}
"""The server backends and the variable that names each one's database."""

PARAMS = ["sqlite", "postgresql", "mysql"]
"""A project fixture's `params`: every backend, skipped where not configured."""


def backend_url(backend: str, tmp_path: Path, filename: str = "app.db") -> str:
    """Return the database URL one test uses on `backend`, or skip the test."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / filename}"
    url = os.environ.get(BACKENDS[backend], "")
    if not url:
        pytest.skip(f"{backend} tests need {BACKENDS[backend]}")
    return url


def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work from `tmp_path` and import the app modules written there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))


async def _execute(url: str, statements: tuple[str, ...]) -> list[tuple[object, ...]]:
    db = Database(url)
    rows: list[tuple[object, ...]] = []
    try:
        async with db.engine.begin() as connection:
            for statement in statements:
                result = await connection.execute(text(statement))
                if result.returns_rows:
                    rows = [tuple(row) for row in result]
    finally:
        await db.dispose()
    return rows


def execute(url: str, *statements: str) -> list[tuple[object, ...]]:
    """Run `statements` in one transaction; return the rows of the last that has any."""
    return anyio.run(_execute, url, statements)


def drop_tables(url: str, *tables: str) -> None:
    """Drop `tables` where they exist, in the order given (dependents first)."""
    execute(url, *(f"DROP TABLE IF EXISTS {table}" for table in tables))
