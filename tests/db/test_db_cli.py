"""`trivium db ...` driven through click's runner against an app module written to tmp_path."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.db.servers import PARAMS
from tests.db.servers import Project
from tests.db.servers import backend_url
from tests.db.servers import in_project

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

APP = """
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table

from trivium import App
from trivium.db import NAMING_CONVENTION, Database

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Table(
    "notes_{suffix}",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", String(200)),
    {extra}
)
db = Database({url!r}, migrations=Path(__file__).parent / "migrations", metadata=metadata)
db.version_table = "versions_{suffix}"
app = App()
db.init_app(app)
"""


@pytest.fixture(params=PARAMS)
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    url = backend_url(request.param, tmp_path, "notes.db")
    in_project(tmp_path, monkeypatch)
    found = Project(tmp_path, url, APP, extra="")
    yield found
    found.drop("notes")


def test_makemigrations_migrate_check_downgrade_round_trip(project: Project) -> None:
    result = project.run("check")
    assert result.exit_code == 1
    assert f"add table notes_{project.suffix}" in result.output

    result = project.run("makemigrations", "-m", "create notes")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Created migrations/")
    assert result.output.strip().endswith("_create_notes.py")

    result = project.run("migrate")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Applied ")
    assert "(app) [head] create notes" in result.output
    assert project.run("migrate").output == "No migrations to apply.\n"
    result = project.run("check")
    assert (result.exit_code, result.output) == (0, "No changes detected.\n")

    project.write(extra='Column("done", Integer),')
    result = project.run("check")
    assert result.exit_code == 1
    assert f"add column notes_{project.suffix}.done INTEGER" in result.output
    assert "trivium db makemigrations" in result.output
    assert project.run("makemigrations", "-m", "add done").exit_code == 0
    assert project.run("migrate").exit_code == 0
    assert project.run("check").exit_code == 0

    history = project.run("history").output.splitlines()
    assert [line[:4] for line in history] == ["[X] ", "[X] "]
    assert history[0].endswith("add done")

    result = project.run("downgrade", "-1")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Reverted ")
    assert result.output.strip().endswith("add done")
    assert project.run("current").output.strip().endswith("(app) create notes")
    assert project.run("history").output.splitlines()[0].startswith("[ ] ")

    assert project.run("downgrade", "base").exit_code == 0
    assert project.run("current").output == "No migrations applied.\n"


def test_empty_revision_for_a_data_migration(project: Project) -> None:
    assert project.run("history").output.startswith("No migrations yet")
    result = project.run("makemigrations", "--empty", "-m", "backfill")
    assert result.exit_code == 0, result.output
    path = Path(result.output.split()[-1])
    assert "def upgrade() -> None:" in path.read_text()
    # The empty revision is not applied: makemigrations compares with the files anyway.
    result = project.run("makemigrations", "-m", "create notes")
    assert result.exit_code == 0, result.output
    created = Path(result.output.split()[-1]).read_text()
    assert f"notes_{project.suffix}" in created
    assert path.name.split("_")[1] in created  # revises the empty one


def test_no_changes_writes_no_revision(project: Project) -> None:
    project.run("makemigrations", "-m", "create notes")
    project.run("migrate")
    result = project.run("makemigrations", "-m", "again")
    assert (result.exit_code, result.output) == (0, "No changes detected.\n")


def test_unknown_revision_is_a_clear_error(project: Project) -> None:
    project.run("makemigrations", "-m", "create notes")
    result = project.run("migrate", "nope")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "nope" in result.output


def test_app_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIVIUM_APP", raising=False)
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code == 2
    assert "--app module:app" in result.output


def test_app_without_database_says_to_call_init_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"bare_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text("from trivium import App\napp = App()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TRIVIUM_APP", f"{module}:app")
    result = CliRunner().invoke(main, ["db", "history"])
    assert result.exit_code == 1
    assert "db.init_app(app)" in result.output


def test_unknown_database_name_lists_the_known_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    project = Project(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", APP, extra="")
    result = project.run("--database", "other", "current")
    assert result.exit_code == 2
    assert "no database named 'other' (it has default)" in result.output


def test_db_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["db", "--help"])
    assert result.exit_code == 0
    for command in ("check", "current", "downgrade", "history", "makemigrations", "migrate"):
        assert command in result.output


def test_a_possible_rename_is_decided_by_flag_never_guessed(project: Project) -> None:
    notes = f"notes_{project.suffix}"
    project.write(extra='Column("draft", String(20)),')
    assert project.run("makemigrations", "-m", "create notes").exit_code == 0
    assert project.run("migrate").exit_code == 0
    project.write(extra='Column("sketch", String(20)),')

    result = project.run("makemigrations", "-m", "rename", "--no-input")
    assert result.exit_code == 1
    assert f"--rename {notes}.draft:sketch" in result.output
    assert f"--drop {notes}.draft" in result.output
    result = project.run("makemigrations", "-m", "rename", "--rename", "draft-sketch")
    assert result.exit_code == 2
    assert "TABLE.OLD:NEW" in result.output

    result = project.run("makemigrations", "-m", "rename", "--rename", f"{notes}.draft:sketch")
    assert result.exit_code == 0, result.output
    created = project.root / result.output.removeprefix("Created ").strip()
    assert "new_column_name='sketch'" in created.read_text()
    assert project.run("migrate").exit_code == 0
    assert project.run("check").exit_code == 0
