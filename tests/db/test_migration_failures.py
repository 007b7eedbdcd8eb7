"""Columns made NOT NULL, failing revisions, branches merged, blank messages: `trivium db` in use."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.db.servers import PARAMS
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
Table(
    "people_{suffix}",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("nick", String(30), nullable={nullable}),
)
db = Database({url!r}, migrations=Path(__file__).parent / "migrations", metadata=metadata)
db.version_table = "versions_{suffix}"
app = App()
db.init_app(app)
"""


class People(Project):
    @property
    def people(self) -> str:
        return self.table("people")


@pytest.fixture(params=PARAMS)
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[People]:
    url = backend_url(request.param, tmp_path, "people.db")
    in_project(tmp_path, monkeypatch)
    found = People(tmp_path, url, APP, nullable=True)
    yield found
    found.drop("extra", "people")


def _created_and_migrated(project: People) -> None:
    assert project.run("makemigrations", "-m", "create people").exit_code == 0
    assert project.run("migrate").exit_code == 0
    insert = f"INSERT INTO {project.people} (name) VALUES ('ada')"  # nick is NULL
    execute(project.url, insert)


def test_column_made_not_null_fills_its_null_rows(project: People) -> None:
    _created_and_migrated(project)
    project.write(nullable=False)
    result = project.run("makemigrations", "-m", "nick required", "--no-input")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert f"column {project.people}.nick (VARCHAR(30)) becomes NOT NULL" in result.output
    assert f"--default {project.people}.nick=VALUE" in result.output

    fill = f"{project.people}.nick='anon'"
    path = project.created(project.run("makemigrations", "-m", "nick required", "--default", fill))
    source = path.read_text()
    assert source.index(".is_(None)).values({'nick': sa.text(\"'anon'\")})") < source.index(
        "nullable=False"
    )
    result = project.run("migrate")
    assert result.exit_code == 0, result.output
    rows = execute(project.url, f"SELECT name, nick FROM {project.people}")
    assert rows == [("ada", "anon")]
    assert project.run("check").output == "No changes detected.\n"


def test_failing_migration_is_one_line_naming_the_revision(project: People) -> None:
    _created_and_migrated(project)
    extra = f"extra_{project.suffix}"
    upgrade = (
        f'    op.create_table("{extra}", sa.Column("id", sa.Integer, primary_key=True))\n'
        f'    op.execute("UPDATE {project.people} SET nosuchcol = 1")\n'
    )
    failing, _ = project.hand_written("add extra", upgrade)

    result = project.run("migrate")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"Error: migration {failing} (add extra) failed: ")
    assert "nosuchcol" in result.output
    assert "db-missing" not in result.output  # "does not exist" is not about the database
    tables = execute(project.url, f"SELECT count(*) FROM {project.people}")
    assert tables == [(1,)]
    if project.url.startswith("mysql"):
        assert "MariaDB/MySQL cannot roll back schema changes" in result.output
        assert f"the statement before the failing one stays applied (CREATE TABLE {extra}" in (
            result.output
        )
        assert "the revision is not recorded" in result.output
    else:
        assert result.output.strip().endswith("; nothing of it was applied")
    assert failing not in project.run("current").output


def test_revisions_before_the_failing_one_are_reported(project: People) -> None:
    _created_and_migrated(project)
    fine, _ = project.hand_written("fine", "    pass\n")
    failing, _ = project.hand_written(
        "broken", f'    op.execute("DROP TABLE no_{project.suffix}")\n'
    )
    result = project.run("migrate")
    assert result.exit_code == 1
    *before, error = result.output.splitlines()
    assert error.startswith(f"Error: migration {failing} (broken) failed: ")
    if project.url.startswith("postgresql"):  # one transaction: rolled back together
        assert before == []
        assert error.endswith("nor of the 1 revision(s) this command ran before it")
    else:
        assert before == [f"Applied {fine} (app) fine"]
        assert error.endswith("nothing of it was applied")


def _two_heads(project: People) -> tuple[str, str]:
    """Two developers' revisions on top of the same parent."""
    assert project.run("makemigrations", "-m", "create people").exit_code == 0
    first, path = project.hand_written("branch one", "    pass\n")
    second = uuid.uuid4().hex[:12]
    source = path.read_text().replace(first, second).replace("branch one", "branch two")
    (path.parent / f"{path.name.split('_')[0]}_{second}_branch_two.py").write_text(source)
    return first, second


def test_two_heads_are_merged_with_the_merge_command(project: People) -> None:
    first, second = _two_heads(project)
    result = project.run("makemigrations", "-m", "more")
    assert result.exit_code == 1
    assert "merge them into one with: trivium db merge" in result.output
    result = project.run("check")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("Error: the project's migrations have 2 heads")

    assert project.run("migrate").exit_code == 0
    result = project.run("downgrade", "-1")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "name the revision to go back to: trivium db downgrade REVISION" in result.output

    merge = project.created(project.run("merge", "-m", "join branches"))
    assert first in merge.read_text()
    assert second in merge.read_text()
    assert project.run("migrate").output.endswith("[head] join branches\n")
    assert project.run("check").output == "No changes detected.\n"
    assert project.run("makemigrations", "--empty", "-m", "after").exit_code == 0

    assert project.run("migrate").exit_code == 0
    assert project.run("downgrade", "-1").output.endswith("after\n")
    result = project.run("downgrade", "-1")  # the merge alone: both branches stay
    assert result.output.endswith("join branches\n"), result.output
    assert sorted(project.run("current").output.split()) == sorted(
        [first, second, "(app)", "(app)", "branch", "branch", "one", "two"]
    )


def test_merge_with_one_head_is_refused(project: People) -> None:
    assert project.run("makemigrations", "-m", "create people").exit_code == 0
    result = project.run("merge")
    assert result.exit_code == 1
    assert "nothing to merge" in result.output


@pytest.mark.parametrize("message", ["", "   "])
def test_blank_message_is_refused(project: People, message: str) -> None:
    result = project.run("makemigrations", "-m", message)
    assert result.exit_code == 2
    assert "give a message" in result.output
    assert not (project.root / "migrations").exists()
