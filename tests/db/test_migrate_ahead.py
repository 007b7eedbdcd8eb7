"""A database migrated by newer code: the old release keeps serving and says so in one line.

During a rolling deploy (or after a rollback) the new release has run `trivium db
migrate` while servers of the old one still run: the database is at a revision the old
code's migrations folder does not have. That is not "unapplied migrations": the old
servers stay ready, and the old code's commands say what happened instead of Alembic's
"Can't locate revision". Real databases: SQLite, and PostgreSQL and MariaDB when set.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from click.testing import Result
from tests.db.servers import PARAMS
from tests.db.servers import backend_url
from tests.db.servers import drop_tables
from tests.db.servers import in_project

from trivium import App
from trivium.cli import main
from trivium.db import Database
from trivium.db import MigrationError
from trivium.db import Migrations
from trivium.observability import Observability
from trivium.testing import TestClient

APP = """
from pathlib import Path

from sqlalchemy import MetaData

from trivium import App
from trivium.db import Database

db = Database({url!r}, migrations=Path(__file__).parent / {folder!r}, metadata=MetaData())
db.version_table = {versions!r}
app = App()
db.init_app(app)
"""

REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = None


def upgrade() -> None:
    op.create_table({table!r}, sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table({table!r})
'''


class Releases:
    """Two releases of one app: `old` has revisions A and B, `new` adds C."""

    def __init__(self, root: Path, url: str) -> None:
        self.url = url
        self.suffix = uuid.uuid4().hex[:8]
        self.versions = f"versions_{self.suffix}"
        self.ids = [f"{name}{self.suffix}" for name in ("aaaa", "bbbb", "cccc")]
        self.tables = [f"ahead_{name}_{self.suffix}" for name in ("a", "b", "c")]
        self.old = self._release(root, "old", 2)
        self.new = self._release(root, "new", 3)

    def _release(self, root: Path, name: str, count: int) -> str:
        folder = root / f"{name}_migrations_{self.suffix}"
        folder.mkdir()
        for index in range(count):
            source = REVISION.format(
                message=f"create {self.tables[index]}",
                revision=self.ids[index],
                down=self.ids[index - 1] if index else None,
                labels=None if index else ("app",),
                table=self.tables[index],
            )
            (folder / f"{self.ids[index]}_create.py").write_text(source)
        module = f"{name}_app_{self.suffix}"
        (root / f"{module}.py").write_text(
            APP.format(url=self.url, folder=folder.name, versions=self.versions)
        )
        return f"{module}:app"

    def database(self, release: str) -> Database:
        """A `Database` configured as `release`'s app module configures it."""
        root = Path.cwd()
        folder = root / f"{release}_migrations_{self.suffix}"
        db = Database(self.url, migrations=folder)
        db.version_table = self.versions
        return db

    def run(self, target: str, *args: str) -> Result:
        return CliRunner().invoke(main, ["db", *args, "--app", target])


@pytest.fixture(params=PARAMS)
def releases(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Releases]:
    url = backend_url(request.param, tmp_path)
    in_project(tmp_path, monkeypatch)
    found = Releases(tmp_path, url)
    yield found
    drop_tables(url, *reversed(found.tables), found.versions)


def _migrated_by_the_new_release(releases: Releases) -> None:
    assert releases.run(releases.new, "migrate").exit_code == 0


def test_the_old_release_has_nothing_pending_on_a_database_the_new_one_migrated(
    releases: Releases, caplog: pytest.LogCaptureFixture
) -> None:
    _migrated_by_the_new_release(releases)
    db = releases.database("old")

    async def twice() -> tuple[list[str], list[str]]:
        try:
            return await db.pending_migrations(), await db.pending_migrations()
        finally:
            await db.dispose()

    with caplog.at_level(logging.WARNING, logger="trivium.db"):
        assert anyio.run(twice) == ([], [])
    warnings = [r.getMessage() for r in caplog.records if r.name == "trivium.db"]
    assert len(warnings) == 1  # once, not per readiness probe
    expected = f"at revision {releases.ids[2]}, which this code's migrations do not have"
    assert expected in warnings[0]


def test_the_old_release_stays_ready_after_the_new_one_migrated(releases: Releases) -> None:
    db = releases.database("old")
    app = App(plugins=[db, Observability()])
    assert releases.run(releases.old, "migrate").exit_code == 0
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        _migrated_by_the_new_release(releases)
        response = client.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["checks"] == {"database:default": "ok"}


@pytest.mark.parametrize(
    "command", [["current"], ["history"], ["check"], ["migrate"], ["downgrade", "-1"]]
)
def test_the_old_release_says_in_one_line_that_the_database_is_ahead(
    releases: Releases, command: list[str]
) -> None:
    _migrated_by_the_new_release(releases)
    result = releases.run(releases.old, *command)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith(
        f"Error: the database is at revision {releases.ids[2]}, which this code's "
        "migrations do not have: newer code has migrated it. Roll forward"
    )
    assert "trivium db downgrade" in result.output


def test_the_database_ahead_is_a_migration_error_from_python(releases: Releases) -> None:
    _migrated_by_the_new_release(releases)
    db = releases.database("old")

    async def current() -> None:
        try:
            await Migrations(db).current()
        finally:
            await db.dispose()

    with pytest.raises(MigrationError, match="which this code's migrations do not have") as info:
        anyio.run(current)
    assert getattr(info.value, "revisions", None) == (releases.ids[2],)


def test_the_new_release_takes_the_database_back_for_a_rollback(releases: Releases) -> None:
    _migrated_by_the_new_release(releases)
    assert releases.run(releases.new, "downgrade", releases.ids[1]).exit_code == 0
    result = releases.run(releases.old, "current")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(releases.ids[1])
    assert releases.run(releases.old, "migrate").output == "No migrations to apply.\n"
