"""Two `trivium db migrate` at once (an init container per pod) apply each revision once.

On PostgreSQL (`pg_advisory_lock`) and MariaDB/MySQL (`GET_LOCK`) the migration lock
makes the second command wait for the first, then find nothing left to apply; SQLite's
own write lock does the same. Real processes against real databases.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from tests import live
from tests.db.servers import PARAMS
from tests.db.servers import backend_url
from tests.db.servers import drop_tables

from trivium.db import Database
from trivium.db import MigrationFailedError
from trivium.db import Migrations

pytestmark = pytest.mark.drives_no_app

APP = """
from pathlib import Path

from sqlalchemy import MetaData

from trivium import App
from trivium.db import Database

db = Database({url!r}, migrations=Path(__file__).parent / "migrations", metadata=MetaData())
db.version_table = {versions!r}
app = App()
db.init_app(app)
"""

# The first revision takes a while, so that the second command arrives while it runs.
REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = None

SLOW = {{
    "postgresql": "SELECT pg_sleep(2)",
    "mysql": "SELECT SLEEP(2)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 2000000) SELECT count(*) FROM c",
}}


def upgrade() -> None:
    {extra}
    op.create_table({table!r}, sa.Column("id", sa.Integer(), primary_key=True))
    if {slow!r}:
        op.execute(SLOW[op.get_bind().dialect.name])


def downgrade() -> None:
    op.drop_table({table!r})
'''


class Project:
    """An app whose migrations create two tables, the first slowly."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self.suffix = uuid.uuid4().hex[:8]
        self.versions = f"versions_{self.suffix}"
        self.tables = [f"locked_{name}_{self.suffix}" for name in ("a", "b")]
        self.ids = [f"{name}{self.suffix}" for name in ("aaaa", "bbbb")]
        self.target = f"locked_app_{self.suffix}:app"
        (root / "migrations").mkdir()
        (root / f"locked_app_{self.suffix}.py").write_text(
            APP.format(url=url, versions=self.versions)
        )
        self.revision(0, slow=True)
        self.revision(1)

    def revision(self, index: int, *, slow: bool = False, extra: str = "pass") -> None:
        source = REVISION.format(
            message=f"create {self.tables[index]}",
            revision=self.ids[index],
            down=self.ids[index - 1] if index else None,
            labels=None if index else ("app",),
            table=self.tables[index],
            slow=slow,
            extra=extra,
        )
        (self.root / "migrations" / f"{self.ids[index]}_create.py").write_text(source)

    def database(self) -> Database:
        db = Database(self.url, migrations=self.root / "migrations")
        db.version_table = self.versions
        return db


@pytest.fixture(params=PARAMS)
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    found = Project(tmp_path, backend_url(request.param, tmp_path))
    yield found
    drop_tables(found.url, *reversed(found.tables), found.versions)


def _migrate(project: Project) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - the tests' own command
        live.trivium_command("db", "migrate", "--app", project.target),
        cwd=project.root,
        env=live.environment(project.root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_two_migrate_commands_at_once_apply_each_revision_once(project: Project) -> None:
    processes = [_migrate(project), _migrate(project)]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert not any("Traceback" in output for output in outputs), outputs
    first, second = sorted(outputs, key=lambda output: "Applied" not in output)
    assert first.splitlines() == [
        f"Applied {project.ids[0]} (app) create {project.tables[0]}",
        f"Applied {project.ids[1]} (app) [head] create {project.tables[1]}",
    ]
    assert second.endswith("No migrations to apply.\n"), outputs
    if not project.url.startswith("sqlite"):
        # Both started together; the first revision takes 2 s: the lock was held.
        assert second.startswith("Another migration of this database is running; waiting")


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_a_failed_migration_releases_the_lock(backend: str, tmp_path: Path) -> None:
    project = Project(tmp_path, backend_url(backend, tmp_path))
    project.revision(0, extra="op.execute('SELECT no_such_column FROM no_such_table')")
    db = project.database()
    waits: list[str] = []

    async def twice() -> None:
        migrations = Migrations(db)
        migrations.on_lock_wait = lambda: waits.append("waited")
        try:
            with pytest.raises(MigrationFailedError):
                await migrations.migrate()
            project.revision(0)
            assert [revision.id for revision in await migrations.migrate()] == project.ids
        finally:
            await db.dispose()

    try:
        anyio.run(twice)
    finally:
        drop_tables(project.url, *reversed(project.tables), project.versions)
    assert waits == []


def test_the_migration_lock_is_not_held_after_the_command(project: Project) -> None:
    first = _migrate(project)
    assert first.communicate(timeout=120)[0].count("Applied") == 2
    again = subprocess.run(  # noqa: S603 - the tests' own command
        live.trivium_command("db", "downgrade", "base", "--app", project.target),
        cwd=project.root,
        env=live.environment(project.root),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "waiting" not in again.stdout
    assert again.stdout.count("Reverted") == 2
