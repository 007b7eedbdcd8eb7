"""The database a migration test runs on, and the statements it runs by hand.

Migration tests write an app module to `tmp_path` and drive `trivium db` on it, once per
backend: a SQLite file in `tmp_path`, and PostgreSQL and MariaDB when their variables are
set (a test is skipped otherwise). Table names carry a per-test suffix; the test drops
them afterwards with `drop_tables`. Outage tests take a server's URL from `server_url`
and check with `running_statements` that a statement cut off was stopped on the server.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from click.testing import Result
from sqlalchemy import text

from trivium.cli import main
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


def server_url(backend: str) -> str:
    """Return the URL of server `backend` ("postgresql", "mysql"), or skip the test."""
    url = os.environ.get(BACKENDS[backend], "")
    if not url:
        pytest.skip(f"needs {BACKENDS[backend]}")
    return url


_ACTIVITY = {
    "postgresql": "SELECT count(*) FROM pg_stat_activity "
    "WHERE query LIKE :marker AND pid <> pg_backend_pid()",
    "mysql": "SELECT count(*) FROM information_schema.processlist "
    "WHERE info LIKE :marker AND id <> connection_id()",
}


async def _running(backend: str, marker: str) -> int:
    db = Database(server_url(backend))
    try:
        async with db.engine.connect() as connection:
            found = await connection.execute(text(_ACTIVITY[backend]), {"marker": f"%{marker}%"})
            return int(found.scalar_one())
    finally:
        await db.dispose()


def running_statements(backend: str, marker: str, within: float) -> int:
    """How many statements containing `marker` run on `backend`, once none do or `within`
    seconds have passed (a cancel request takes a moment to land)."""
    stop = time.monotonic() + within
    while (count := anyio.run(_running, backend, marker)) and time.monotonic() < stop:
        time.sleep(0.1)
    return count


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


class Project:
    """An app module in a folder, rewritten under a fresh module name for each model change.

    `source` is the module's text, a `str.format` template given `suffix` (the tables'
    per-test suffix), `url` and the fields `write` takes (which may give another `url`);
    a field `write` leaves out takes the value given to the constructor.
    """

    def __init__(self, root: Path, url: str, source: str, **fields: object) -> None:
        self.root = root
        self.url = url
        self.source = source
        self.defaults = fields
        """The fields a `write` does not give (those given here)."""
        self.suffix = uuid.uuid4().hex[:8]
        self.target = ""
        self.write()

    def table(self, name: str) -> str:
        """The test's name of table `name` (`name_<suffix>`)."""
        return f"{name}_{self.suffix}"

    def write(self, **fields: object) -> None:
        module = f"project_app_{uuid.uuid4().hex[:8]}"
        values = {"suffix": self.suffix, "url": self.url, **self.defaults, **fields}
        text = self.source.format(**values)
        (self.root / f"{module}.py").write_text(text)
        self.target = f"{module}:app"

    def run(self, *args: str, input: str | None = None) -> Result:  # noqa: A002 - click's name
        """Run `trivium db ARGS --app <this project's app>`, typing `input` if given."""
        return CliRunner().invoke(main, ["db", *args, "--app", self.target], input=input)

    def created(self, result: Result) -> Path:
        """The revision file a successful `makemigrations` wrote."""
        assert result.exit_code == 0, result.output
        return self.root / result.output.removeprefix("Created ").strip()

    def hand_written(self, message: str, upgrade: str) -> tuple[str, Path]:
        """Write an empty revision whose upgrade() runs `upgrade`; return its id and file."""
        path = self.created(self.run("makemigrations", "--empty", "-m", message))
        body = '    """Apply this revision."""\n'
        path.write_text(path.read_text().replace(body, body + upgrade, 1))
        return path.name.split("_")[1], path

    def columns(self, table: str) -> set[str]:
        """The column names of `table` as the database has them."""
        if self.url.startswith("sqlite"):
            rows = execute(self.url, f"SELECT name FROM pragma_table_info('{table}')")
        else:
            rows = execute(
                self.url,
                "SELECT column_name FROM information_schema.columns "  # noqa: S608 - test names
                f"WHERE table_name = '{table}'",
            )
        return {str(row[0]) for row in rows}

    def drop(self, *names: str) -> None:
        """Drop the tables `names` (dependents first), then the version table."""
        drop_tables(self.url, *(self.table(name) for name in (*names, "versions")))
