"""Safe migrations: offline makemigrations, one-off defaults, battery tables, check, --app anywhere."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from tests.db.servers import BACKENDS
from tests.db.servers import PARAMS
from tests.db.servers import Project
from tests.db.servers import backend_url
from tests.db.servers import execute
from tests.db.servers import in_project

from trivium.cli import main
from trivium.db import Database

APP = """
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table

from trivium import App
from trivium.db import NAMING_CONVENTION, Database

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Table(
    "posts_{suffix}",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200)),
    {extra}
)
{tables}
db = Database({url!r}, migrations=Path(__file__).parent / "migrations", metadata=metadata)
db.version_table = "versions_{suffix}"
app = App()
db.init_app(app)
"""

STATUS = 'Column("status", String(20), nullable=False),'


class Posts(Project):
    def __init__(self, root: Path, url: str) -> None:
        super().__init__(root, url, APP, extra="", tables="")

    def revisions(self) -> list[str]:
        """The revision files' texts, oldest first."""
        paths = (self.root / "migrations").glob("*.py")
        return [path.read_text() for path in sorted(paths, key=lambda p: p.stat().st_mtime_ns)]


@pytest.fixture(params=PARAMS)
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Posts]:
    url = backend_url(request.param, tmp_path, "posts.db")
    in_project(tmp_path, monkeypatch)
    found = Posts(tmp_path, url)
    yield found
    found.drop("posts")


def test_makemigrations_needs_no_database_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    # Nothing listens on port 1: the revision files are replayed on a scratch database.
    project = Posts(tmp_path, "postgresql://nobody@127.0.0.1:1/nowhere")
    result = project.run("makemigrations", "-m", "create posts")
    assert result.exit_code == 0, result.output
    project.write(extra='Column("body", String(500)),')
    result = project.run("makemigrations", "-m", "add body")
    assert result.exit_code == 0, result.output
    first, second = project.revisions()
    assert f"create_table('posts_{project.suffix}'" in first
    assert "batch_op.add_column" in second  # in a batch block, which PostgreSQL runs as is
    project.write(extra='Column("body", String(500)),')
    assert project.run("makemigrations", "-m", "again").output == "No changes detected.\n"


def test_generated_alterations_replay_while_the_server_database_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    # Nothing listens on port 1 (CI, a teammate without the database): every comparison
    # replays the PostgreSQL project's revisions on a scratch SQLite database.
    project = Posts(tmp_path, "postgresql://nobody@127.0.0.1:1/nowhere")
    assert project.run("makemigrations", "-m", "create posts").exit_code == 0
    project.write(extra=STATUS)
    result = project.run(
        "makemigrations", "-m", "add status", "--default", f"posts_{project.suffix}.status='draft'"
    )
    assert result.exit_code == 0, result.output
    assert "server_default=None" in project.revisions()[-1]  # the one-off default, dropped
    # The title becomes NOT NULL: an alter_column, which SQLite cannot run outside a batch.
    project.write(extra=STATUS)
    module = tmp_path / f"{project.target.partition(':')[0]}.py"
    required = 'Column("title", String(200), nullable=False)'
    module.write_text(module.read_text().replace('Column("title", String(200))', required))
    result = project.run(
        "makemigrations", "-m", "title required", "--default", f"posts_{project.suffix}.title=''"
    )
    assert result.exit_code == 0, result.output
    assert "nullable=False" in project.revisions()[-1]

    result = project.run("check")
    assert "cannot replay" not in result.output
    assert "The models and the migration files differ" not in result.output
    assert "Could not check the applied migrations: [db-unreachable]" in result.output
    assert project.run("makemigrations", "-m", "again").output == "No changes detected.\n"


def test_sqlite_makemigrations_never_touches_the_database_file(project: Posts) -> None:
    if not project.url.startswith("sqlite"):
        pytest.skip("the SQLite file case")
    result = project.run("makemigrations", "-m", "create posts")
    assert result.exit_code == 0, result.output
    assert not (project.root / "posts.db").exists()


def test_not_null_column_without_default_is_caught_at_makemigrations(project: Posts) -> None:
    assert project.run("makemigrations", "-m", "create posts").exit_code == 0
    assert project.run("migrate").exit_code == 0
    execute(project.url, f"INSERT INTO posts_{project.suffix} (title) VALUES ('a')")
    project.write(extra=STATUS)
    result = project.run("makemigrations", "-m", "add status", "--no-input")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert f"--default posts_{project.suffix}.status=VALUE" in result.output
    assert len(project.revisions()) == 1

    result = project.run(
        "makemigrations", "-m", "add status", "--default", f"posts_{project.suffix}.status='draft'"
    )
    assert result.exit_code == 0, result.output
    assert project.run("migrate").exit_code == 0, project.run("migrate").output
    rows = execute(project.url, f"SELECT title, status FROM posts_{project.suffix}")
    assert rows == [("a", "draft")]
    # The one-off default is gone: the column has no server default left.
    assert project.run("check").output == "No changes detected.\n"


def test_not_null_default_is_asked_for(tmp_path: Path) -> None:
    from sqlalchemy import Column
    from sqlalchemy import Integer
    from sqlalchemy import MetaData
    from sqlalchemy import String
    from sqlalchemy import Table

    from trivium.db import Migrations
    from trivium.db import NotNullColumn

    def models(*extra: Column[object]) -> MetaData:
        metadata = MetaData()
        Table("posts", metadata, Column("id", Integer, primary_key=True), *extra)
        return metadata

    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    asked: list[str] = []

    def ask(column: NotNullColumn) -> str:
        asked.append(f"{column.key} {column.type}")
        return "'new'"

    async def scenario() -> str:
        db = Database(url, migrations=tmp_path / "migrations", metadata=models())
        await Migrations(db).makemigrations("create posts")
        db.metadata = models(Column("status", String(20), nullable=False))
        revision = await Migrations(db).makemigrations("add status", ask_default=ask)
        assert revision is not None
        return revision.path.read_text()

    source = anyio.run(scenario)
    assert asked == ["posts.status VARCHAR(20)"]
    assert "server_default=sa.text(\"'new'\")" in source
    assert "server_default=None" in source


def test_unknown_default_is_refused(project: Posts) -> None:
    assert project.run("makemigrations", "-m", "create posts").exit_code == 0
    project.write(extra='Column("body", String(500)),')
    result = project.run("makemigrations", "-m", "x", "--default", "posts.nope=1")
    assert result.exit_code == 1
    assert "--default posts.nope" in result.output


def test_battery_tables_never_enter_the_projects_migrations(project: Posts) -> None:
    store = 'Table("trivium_store", metadata, Column("key", String(255), primary_key=True))'
    project.write(tables=store)
    result = project.run("makemigrations", "-m", "create posts")
    assert result.exit_code == 0, result.output
    (revision,) = project.revisions()
    assert f"posts_{project.suffix}" in revision
    assert "trivium_store" not in revision


def test_check_tells_write_from_apply(project: Posts) -> None:
    result = project.run("check")
    assert result.exit_code == 1
    assert "Write a migration with: trivium db makemigrations" in result.output
    assert "trivium db migrate" not in result.output

    assert project.run("makemigrations", "-m", "create posts").exit_code == 0
    result = project.run("check")
    assert result.exit_code == 1
    assert "Apply the pending migrations with: trivium db migrate" in result.output
    assert "makemigrations" not in result.output

    assert project.run("migrate").exit_code == 0
    assert project.run("check").output == "No changes detected.\n"


def test_app_option_is_accepted_before_and_after_the_subcommand(project: Posts) -> None:
    before = CliRunner().invoke(main, ["db", "--app", project.target, "history"])
    after = CliRunner().invoke(main, ["db", "history", "--app", project.target])
    assert before.exit_code == after.exit_code == 0
    assert before.output == after.output


def test_unreachable_database_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    project = Posts(tmp_path, "postgresql://app@127.0.0.1:1/blog")
    result = project.run("migrate")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "[db-unreachable] no database server answers at 127.0.0.1:1" in result.output
    assert "'blog'" in result.output


@pytest.mark.skipif(not os.environ.get(BACKENDS["postgresql"]), reason="needs PostgreSQL")
def test_missing_database_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    url = os.environ[BACKENDS["postgresql"]].rsplit("/", 1)[0] + "/no_such_db_here"
    result = Posts(tmp_path, url).run("migrate")
    assert result.exit_code == 1
    assert "[db-missing] database 'no_such_db_here' does not exist" in result.output
    assert "createdb no_such_db_here" in result.output
    assert result.output.count("\n") == 1


def test_start_up_warns_loudly_about_unapplied_migrations(
    project: Posts, caplog: pytest.LogCaptureFixture
) -> None:
    import importlib

    from trivium.testing import TestClient

    assert project.run("makemigrations", "-m", "create posts").exit_code == 0
    app = importlib.import_module(project.target.partition(":")[0]).app
    with caplog.at_level("WARNING", logger="trivium.db"), TestClient(app):
        pass
    (record,) = [r for r in caplog.records if "UNAPPLIED" in r.getMessage()]
    assert "trivium db migrate" in record.getMessage()
    assert project.run("migrate").exit_code == 0
    caplog.clear()
    with caplog.at_level("WARNING", logger="trivium.db"), TestClient(app):
        pass
    assert not [r for r in caplog.records if "UNAPPLIED" in r.getMessage()]


AUTH_APP = """
from pathlib import Path

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from trivium import App
from trivium.auth import Auth
from trivium.db import Database, IntPK, Model

db = Database({url!r}, migrations=Path(__file__).parent / "migrations")


class Post(IntPK, Model):
    __tablename__ = "posts_{suffix}"
    title: Mapped[str] = mapped_column(String(200))


app = App(plugins=[db, Auth(db, secret_key="k" * 40)])
"""


def test_first_migration_with_auth_has_only_the_projects_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    suffix = uuid.uuid4().hex[:8]
    url = f"sqlite+aiosqlite:///{tmp_path / 'blog.db'}"
    (tmp_path / f"blog_{suffix}.py").write_text(AUTH_APP.format(url=url, suffix=suffix))
    target = f"blog_{suffix}:app"
    result = CliRunner().invoke(main, ["db", "makemigrations", "-m", "first", "--app", target])
    assert result.exit_code == 0, result.output
    (revision,) = (tmp_path / "migrations").glob("*.py")
    source = revision.read_text()
    assert f"create_table('posts_{suffix}'" in source
    for battery_table in ("trivium_store", "auth_user", "auth_group", "auth_permission"):
        assert f"'{battery_table}'" not in source
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in imports if "._" in line], imports
    # The batteries' migrations (auth, and the session store Auth uses) come first.
    migrated = CliRunner().invoke(main, ["db", "migrate", "--app", target])
    assert migrated.exit_code == 0, migrated.output
    assert "(stores)" in migrated.output
    assert "(auth)" in migrated.output
