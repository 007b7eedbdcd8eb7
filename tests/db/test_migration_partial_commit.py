"""A revision that commits part of itself, then fails: what stays applied, and what `migrate` says.

Trivium's generated revision adding enum values calls `op.get_bind().commit()`; what a
revision runs after such a commit must not be committed statement by statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.db.servers import Project
from tests.db.servers import backend_url
from tests.db.servers import execute
from tests.db.servers import in_project

pytestmark = pytest.mark.drives_no_app

APP = """
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table

from trivium import App
from trivium.db import NAMING_CONVENTION, Database

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Table("notes_{suffix}", metadata, Column("id", Integer, primary_key=True), Column("body", String(50)))
db = Database({url!r}, migrations=Path(__file__).parent / "migrations", metadata=metadata)
db.version_table = "versions_{suffix}"
app = App()
db.init_app(app)
"""


class Notes(Project):
    @property
    def notes(self) -> str:
        return self.table("notes")

    @property
    def marks(self) -> str:
        return self.table("marks")


@pytest.fixture(params=["sqlite", "postgresql"])
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Notes]:
    url = backend_url(request.param, tmp_path, "notes.db")
    in_project(tmp_path, monkeypatch)
    found = Notes(tmp_path, url, APP)
    yield found
    found.drop("marks", "notes")


def _migrated(project: Notes) -> None:
    result = project.run("makemigrations", "-m", "create notes")
    assert result.exit_code == 0, result.output
    assert project.run("migrate").exit_code == 0


def _committing(project: Notes, *, fails: bool) -> str:
    """Create a table, commit, add a column in a batch block, then fail (or not)."""
    return (
        f'    op.execute("CREATE TABLE IF NOT EXISTS {project.table("marks")} (id INTEGER PRIMARY KEY)")\n'
        "    op.get_bind().commit()\n"
        f'    with op.batch_alter_table("{project.table("notes")}") as batch_op:\n'
        '        batch_op.add_column(sa.Column("extra", sa.Integer()))\n'
        f"    op.execute(\"INSERT INTO {project.notes} (body) VALUES ('tail')\")\n"
        + (
            f'    op.execute("UPDATE {project.table("notes")} SET nosuchcol = 1")\n'
            if fails
            else ""
        )
    )


def test_what_follows_a_revisions_commit_is_rolled_back_and_said(project: Notes) -> None:
    _migrated(project)
    failing, path = project.hand_written("partial", _committing(project, fails=True))

    result = project.run("migrate")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"Error: migration {failing} (partial) failed: ")
    assert "nothing of it was applied" not in result.output
    assert (
        "the revision committed part of itself, so the statement before its commit stays "
        f"applied (CREATE TABLE IF NOT EXISTS {project.marks} (id INTEGER PRIMARY KEY)) and "
        "the rest of it is rolled back" in result.output
    )
    assert "undo them by hand first, unless they can run twice" in result.output
    # The part before the commit stays; the batch block and the insert after it do not.
    assert execute(project.url, f"SELECT count(*) FROM {project.marks}") == [(0,)]
    assert "extra" not in project.columns(project.table("notes"))
    assert execute(project.url, f"SELECT count(*) FROM {project.notes}") == [(0,)]
    assert failing not in project.run("current").output

    # Fixed, the revision runs again from the start (its first statement can run twice).
    fixed = _committing(project, fails=False)
    path.write_text(path.read_text().replace(_committing(project, fails=True), fixed))
    result = project.run("migrate")
    assert result.exit_code == 0, result.output
    assert "extra" in project.columns(project.table("notes"))
    assert execute(project.url, f"SELECT count(*) FROM {project.notes}") == [(1,)]
    assert failing in project.run("current").output


def test_a_revision_that_committed_stays_whole_when_a_later_one_fails(project: Notes) -> None:
    _migrated(project)
    committing, _ = project.hand_written("committing", _committing(project, fails=False))
    failing, _ = project.hand_written(
        "broken", f'    op.execute("UPDATE {project.table("notes")} SET nosuchcol = 1")\n'
    )

    result = project.run("migrate")
    assert result.exit_code == 1
    *before, error = result.output.splitlines()
    assert before == [f"Applied {committing} (app) committing"]
    assert error.startswith(f"Error: migration {failing} (broken) failed: ")
    assert error.endswith("; nothing of it was applied")
    assert "extra" in project.columns(project.table("notes"))
    assert execute(project.url, f"SELECT count(*) FROM {project.notes}") == [(1,)]
    current = project.run("current").output
    assert committing in current
    assert failing not in current


def test_a_failure_before_the_commit_applies_nothing(project: Notes) -> None:
    _migrated(project)
    upgrade = (
        f'    op.execute("CREATE TABLE {project.table("marks")} (id INTEGER PRIMARY KEY)")\n'
        f'    op.execute("UPDATE {project.table("notes")} SET nosuchcol = 1")\n'
        "    op.get_bind().commit()\n"
    )
    failing, _ = project.hand_written("early", upgrade)
    result = project.run("migrate")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: migration {failing} (early) failed: ")
    assert result.output.strip().endswith("; nothing of it was applied")
    tables = execute(project.url, f"SELECT count(*) FROM {project.notes}")
    assert tables == [(0,)]
