"""Which battery branches a project revision depends on, driven through `trivium db`.

A project revision depends only on the batteries its foreign keys point at, and a
dependency on a trivium battery the app does not install (the stores' table, with
sessions in Redis) counts as met.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.testing import Result
from tests.db.servers import in_project

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

APP = """
from pathlib import Path

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

from trivium import App
from trivium.db import NAMING_CONVENTION, Database

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Table("auth_user", metadata, Column("id", Integer, primary_key=True))
Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", String(200)),
    {extra}
)
db = Database("sqlite:///./app.db", migrations=Path(__file__).parent / "migrations", metadata=metadata)
db.include_migrations("trivium.auth")
app = App(plugins=[db])
"""

OLD_REVISION = '''"""initial"""

import sqlalchemy as sa
from alembic import op

revision = "aaaa00000001"
down_revision = None
branch_labels = ("app",)
depends_on = {depends_on!r}


def upgrade() -> None:
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("notes")
'''


def write_app(root: Path, extra: str = "") -> str:
    module = f"deps_app_{uuid.uuid4().hex[:8]}"
    (root / f"{module}.py").write_text(APP.format(extra=extra))
    return f"{module}:app"


def run(target: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["db", "--app", target, *args])


def tables(root: Path) -> set[str]:
    with sqlite3.connect(root / "app.db") as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    in_project(tmp_path, monkeypatch)
    return tmp_path


def test_a_revision_without_foreign_keys_to_a_battery_does_not_depend_on_it(
    project: Path,
) -> None:
    target = write_app(project)
    assert run(target, "migrate").exit_code == 0
    result = run(target, "makemigrations", "-m", "create notes")
    assert result.exit_code == 0, result.output
    (revision,) = (project / "migrations").glob("*.py")
    assert "depends_on: str | tuple[str, ...] | None = None" in revision.read_text()


def test_a_revision_with_a_foreign_key_to_a_battery_table_depends_on_its_head(
    project: Path,
) -> None:
    target = write_app(project, 'Column("owner_id", ForeignKey("auth_user.id")),')
    assert run(target, "migrate").exit_code == 0
    result = run(target, "makemigrations", "-m", "create notes")
    assert result.exit_code == 0, result.output
    (revision,) = (project / "migrations").glob("*.py")
    assert "depends_on: str | tuple[str, ...] | None = 'auth_0002'" in revision.read_text()


def test_downgrading_a_battery_keeps_project_tables_that_do_not_refer_to_it(
    project: Path,
) -> None:
    target = write_app(project)
    assert run(target, "makemigrations", "-m", "create notes").exit_code == 0
    assert run(target, "migrate").exit_code == 0

    result = run(target, "downgrade", "auth@-1")

    assert result.exit_code == 0, result.output
    assert "Reverted auth_0002" in result.output
    assert "(app)" not in result.output
    assert "notes" in tables(project)


def test_a_dependency_on_a_battery_not_installed_counts_as_met(project: Path) -> None:
    # Written without Redis: sessions in the database, so the stores' branch was a head.
    folder = project / "migrations"
    folder.mkdir()
    depends_on = ("auth_0002", "trivium_stores_0001")
    (folder / "0001_initial.py").write_text(OLD_REVISION.format(depends_on=depends_on))
    target = write_app(project)

    result = run(target, "migrate")

    assert result.exit_code == 0, result.output
    assert "Applied aaaa00000001 (app)" in result.output
    assert {"notes", "auth_user"} <= tables(project)
    assert "trivium_store" not in tables(project)
    assert run(target, "current").exit_code == 0


def test_a_dependency_no_migrations_folder_holds_fails_in_one_line(project: Path) -> None:
    folder = project / "migrations"
    folder.mkdir()
    (folder / "0001_initial.py").write_text(OLD_REVISION.format(depends_on="shop_0007"))
    target = write_app(project)

    result = run(target, "migrate")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "depends on shop_0007, which no migrations folder here holds" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("message", ['fix """ quoting', "C:\\temp \\ path", 'say "hi"'])
def test_a_message_with_quotes_or_backslashes_is_written_as_given(
    project: Path, message: str
) -> None:
    target = write_app(project)

    result = run(target, "makemigrations", "--empty", "-m", message)

    assert result.exit_code == 0, result.output
    history = run(target, "history")
    assert history.exit_code == 0, history.output
    assert message in history.output


def test_a_battery_downgrade_reverting_project_revisions_needs_cascade(project: Path) -> None:
    # Written by an earlier version: the project revision depends on the battery's head.
    folder = project / "migrations"
    folder.mkdir()
    (folder / "0001_initial.py").write_text(OLD_REVISION.format(depends_on="auth_0002"))
    target = write_app(project)
    assert run(target, "migrate").exit_code == 0

    refused = run(target, "downgrade", "auth@-1")

    assert refused.exit_code == 1
    assert "downgrading auth@-1 would also revert the project's revisions aaaa00000001" in (
        refused.output
    )
    assert "trivium db downgrade auth@-1 --cascade" in refused.output
    assert "notes" in tables(project)

    result = run(target, "downgrade", "auth@-1", "--cascade")

    assert result.exit_code == 0, result.output
    assert "Reverted aaaa00000001 (app)" in result.output
    assert "Reverted auth_0002 (auth)" in result.output
    assert "notes" not in tables(project)
