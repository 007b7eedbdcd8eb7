"""Migrations from Python (`trivium.db.Migrations`), on SQLite and on the configured servers.

Each test gets its own table names, version table and migrations folder, so runs that
share a PostgreSQL or MariaDB database do not see each other's tables.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import inspect
from sqlalchemy import text

from trivium.db import NAMING_CONVENTION
from trivium.db import Database
from trivium.db import MigrationError
from trivium.db import Migrations
from trivium.db import UTCDateTime
from trivium.errors import ConfigurationError

pytestmark = pytest.mark.drives_no_app

BACKENDS = {"postgresql": "TRIVIUM_TEST_POSTGRES_URL", "mysql": "TRIVIUM_TEST_MYSQL_URL"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def models(
    suffix: str, *, body: bool = False, title: bool = True, nickname: bool = False
) -> MetaData:
    """This test's models: authors and posts, with or without some columns."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    author_columns: list[Column[Any]] = [Column("id", Integer, primary_key=True)]
    if nickname:
        author_columns.append(Column("nickname", String(20)))
    Table(f"authors_{suffix}", metadata, *author_columns)
    columns: list[Column[Any]] = [
        Column("id", Integer, primary_key=True),
        Column("author_id", ForeignKey(f"authors_{suffix}.id", ondelete="CASCADE")),
        Column("created", UTCDateTime(), nullable=True),
    ]
    if title:
        columns.append(Column("title", String(100), nullable=False, server_default=""))
    if body:
        columns.append(Column("body", String(500)))
    Table(f"posts_{suffix}", metadata, *columns)
    return metadata


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database with this test's models, an empty migrations folder and its own version table."""
    backend: str = request.param
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    if backend != "sqlite":
        url = os.environ.get(BACKENDS[backend], "")
        if not url:
            pytest.skip(f"{backend} tests need {BACKENDS[backend]}")
    suffix = uuid.uuid4().hex[:8]
    database = Database(url, migrations=tmp_path / "migrations", metadata=models(suffix))
    database.version_table = f"versions_{suffix}"
    database.suffix = suffix  # type: ignore[attr-defined]
    yield database
    async with database.engine.begin() as connection:
        for name in ("posts", "authors", "things", "gadgets", "versions"):
            await connection.execute(text(f"DROP TABLE IF EXISTS {name}_{suffix}"))
    await database.dispose()


async def columns(db: Database, table: str) -> set[str]:
    async with db.engine.connect() as connection:
        found = await connection.run_sync(lambda sync: inspect(sync).get_columns(table))
    return {column["name"] for column in found}


@pytest.mark.anyio
async def test_makemigrations_writes_a_revision_that_migrate_applies(db: Database) -> None:
    migrations = Migrations(db)
    created = await migrations.makemigrations("create posts")
    assert created is not None
    assert created.path.parent == db.migrations
    source = created.path.read_text()
    assert f"op.create_table('posts_{db.suffix}'" in source  # type: ignore[attr-defined]
    assert "trivium.db.UTCDateTime(" in source
    assert "import trivium.db" in source
    assert created.branch_labels == ("app",)

    applied = await migrations.migrate()
    assert [revision.id for revision in applied] == [created.id]
    assert await migrations.check() == []
    assert "title" in await columns(db, f"posts_{db.suffix}")  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_added_column_is_detected_migrated_and_reverted(db: Database) -> None:
    migrations = Migrations(db)
    first = await migrations.makemigrations("create posts")
    assert first is not None
    await migrations.migrate()
    db.metadata = models(db.suffix, body=True)  # type: ignore[attr-defined]
    posts = f"posts_{db.suffix}"  # type: ignore[attr-defined]

    assert await migrations.check() == [f"add column {posts}.body VARCHAR(500)"]
    second = await migrations.makemigrations("add body")
    assert second is not None
    assert second.down_revisions == (first.id,)
    assert await migrations.check() == [
        f"the database is not at the latest revision; unapplied: {second.id}"
    ]
    await migrations.migrate()
    assert await migrations.check() == []
    assert "body" in await columns(db, posts)

    reverted = await migrations.downgrade("-1")
    assert [revision.id for revision in reverted] == [second.id]
    assert "body" not in await columns(db, posts)
    assert [revision.id for revision in await migrations.current()] == [first.id]


@pytest.mark.anyio
async def test_makemigrations_without_changes_writes_nothing(db: Database) -> None:
    migrations = Migrations(db)
    await migrations.makemigrations("create posts")
    await migrations.migrate()
    assert await migrations.makemigrations("nothing") is None
    assert len(list(db.migrations.glob("*.py"))) == 1


@pytest.mark.anyio
async def test_makemigrations_compares_with_the_files_when_the_database_is_behind(
    db: Database,
) -> None:
    migrations = Migrations(db)
    first = await migrations.makemigrations("create posts")
    assert first is not None
    assert await migrations.pending() == [first.id]
    assert await migrations.makemigrations("again") is None
    assert await migrations.changes() == []


@pytest.mark.anyio
async def test_tables_outside_the_metadata_are_ignored(db: Database) -> None:
    migrations = Migrations(db)
    await migrations.makemigrations("create posts")
    await migrations.migrate()
    things = f"things_{db.suffix}"  # type: ignore[attr-defined]
    async with db.engine.begin() as connection:
        await connection.execute(text(f"CREATE TABLE {things} (id INTEGER PRIMARY KEY)"))
    assert await migrations.check() == []
    assert await migrations.makemigrations("nothing") is None


@pytest.mark.anyio
async def test_history_and_current_report_applied_revisions(db: Database) -> None:
    migrations = Migrations(db)
    assert await migrations.history() == []
    assert await migrations.current() == []
    first = await migrations.makemigrations("create posts")
    second = await migrations.makemigrations("for data", empty=True)
    assert first is not None
    assert second is not None
    await migrations.migrate(first.id)

    history = await migrations.history()
    assert [(revision.id, revision.applied, revision.is_head) for revision in history] == [
        (second.id, False, True),
        (first.id, True, False),
    ]
    assert history[0].message == "for data"
    assert [revision.id for revision in await migrations.current()] == [first.id]


@pytest.mark.anyio
async def test_unknown_revision_is_a_migration_error(db: Database) -> None:
    migrations = Migrations(db)
    await migrations.makemigrations("create posts")
    with pytest.raises(MigrationError, match="nope"):
        await migrations.migrate("nope")
    with pytest.raises(MigrationError):
        await migrations.downgrade("nope")


DATA_MIGRATION = '''
def upgrade() -> None:
    """Give every author a first post."""
    bind = op.get_bind()
    authors = sa.table("authors_{suffix}", sa.column("id", sa.Integer))
    op.bulk_insert(authors, [{{"id": 1}}, {{"id": 2}}])
    ids = bind.execute(sa.select(authors.c.id).order_by(authors.c.id)).scalars().all()
    posts = sa.table(
        "posts_{suffix}", sa.column("author_id", sa.Integer), sa.column("title", sa.String)
    )
    op.bulk_insert(posts, [{{"author_id": id_, "title": f"hello {{id_}}"}} for id_ in ids])
    op.execute(posts.update().values(title=sa.func.upper(posts.c.title)))


def downgrade() -> None:
    """Remove the rows again."""
    op.execute("DELETE FROM posts_{suffix}")
    op.execute("DELETE FROM authors_{suffix}")
'''


@pytest.mark.anyio
async def test_data_migration_transforms_rows(db: Database) -> None:
    migrations = Migrations(db)
    await migrations.makemigrations("create posts")
    data = await migrations.makemigrations("first posts", empty=True)
    assert data is not None
    source = data.path.read_text()
    source = source[: source.index("def upgrade")] + DATA_MIGRATION.format(suffix=db.suffix)  # type: ignore[attr-defined]
    data.path.write_text(source)

    await migrations.migrate()
    query = text(f"SELECT author_id, title FROM posts_{db.suffix} ORDER BY author_id")  # type: ignore[attr-defined]
    async with db.engine.connect() as connection:
        assert (await connection.execute(query)).all() == [(1, "HELLO 1"), (2, "HELLO 2")]
    await migrations.downgrade("-1")
    async with db.engine.connect() as connection:
        assert (await connection.execute(query)).all() == []


BATTERY_REVISION = '''"""Create the battery's table."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = None
branch_labels = ("{label}",)
depends_on = None


def upgrade() -> None:
    op.create_table("{table}_{suffix}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("{table}_{suffix}")
'''


def make_battery(root: Path, suffix: str, table: str = "things") -> tuple[str, str]:
    """Write a package that ships one migration (creating `table`); return its name and revision."""
    package = f"battery_{table}_{suffix}"
    folder = root / package / "migrations"
    folder.mkdir(parents=True)
    (root / package / "__init__.py").write_text("")
    revision = f"b{table}{suffix}0001"
    (folder / f"0001_{table}.py").write_text(
        BATTERY_REVISION.format(revision=revision, label=package, suffix=suffix, table=table)
    )
    return package, revision


@pytest.mark.anyio
async def test_battery_migrations_run_before_the_project(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suffix: str = db.suffix  # type: ignore[attr-defined]
    monkeypatch.syspath_prepend(str(tmp_path / "packages"))
    package, battery_revision = make_battery(tmp_path / "packages", suffix)
    db.include_migrations(package)
    metadata = models(suffix)
    Table(f"things_{suffix}", metadata, Column("id", Integer, primary_key=True))
    metadata.tables[f"posts_{suffix}"].append_column(
        Column("thing_id", ForeignKey(f"things_{suffix}.id"))
    )
    db.metadata = metadata
    migrations = Migrations(db)

    assert [revision.id for revision in await migrations.migrate()] == [battery_revision]
    created = await migrations.makemigrations("create posts")
    assert created is not None
    assert f"depends_on: str | tuple[str, ...] | None = '{battery_revision}'" in (
        created.path.read_text()
    )
    assert f"create_table('things_{suffix}'" not in created.path.read_text()
    assert len(list((tmp_path / "packages" / package / "migrations").glob("*.py"))) == 1

    await migrations.downgrade("base")
    order = [revision.id for revision in await migrations.migrate()]
    assert order == [battery_revision, created.id]
    assert await migrations.check() == []
    assert {revision.id for revision in await migrations.current()} == {created.id}


def revision_header(source: str) -> dict[str, Any]:
    """Return the module-level annotated constants of a revision file, evaluated as literals."""
    return {
        node.target.id: ast.literal_eval(node.value)
        for node in ast.parse(source).body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.value is not None
    }


@pytest.mark.anyio
async def test_a_revision_on_two_batteries_lists_them_in_a_tuple(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suffix: str = db.suffix  # type: ignore[attr-defined]
    monkeypatch.syspath_prepend(str(tmp_path / "packages"))
    batteries = [
        make_battery(tmp_path / "packages", suffix, table) for table in ("things", "gadgets")
    ]
    for package, _ in batteries:
        db.include_migrations(package)
    # A project revision depends on the batteries whose tables its foreign keys point at.
    metadata = models(suffix)
    for table in ("things", "gadgets"):
        Table(f"{table}_{suffix}", metadata, Column("id", Integer, primary_key=True))
        metadata.tables[f"posts_{suffix}"].append_column(
            Column(f"{table}_id", ForeignKey(f"{table}_{suffix}.id"))
        )
    db.metadata = metadata
    migrations = Migrations(db)
    await migrations.migrate()

    created = await migrations.makemigrations("create posts")
    assert created is not None
    header = revision_header(created.path.read_text())
    # A tuple, as the annotation says (a list would fail mypy --strict on the file).
    assert isinstance(header["depends_on"], tuple)
    assert sorted(header["depends_on"]) == sorted(revision for _, revision in batteries)
    assert header["branch_labels"] == ("app",)
    assert header["down_revision"] is None
    await migrations.downgrade("base")


def test_include_migrations_needs_a_package_with_a_migrations_folder(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigurationError, match="no package named") as missing:
        db.include_migrations("no_such_package_anywhere")
    assert missing.value.code == "db-migrations-package"
    with pytest.raises(ConfigurationError, match="no 'migrations' folder"):
        db.include_migrations("trivium.routing")


@pytest.mark.anyio
async def test_sqlite_batch_mode_drops_a_column_and_keeps_child_rows(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    db = Database(
        f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
        migrations=tmp_path / "migrations",
        metadata=models(suffix, nickname=True),
    )
    migrations = Migrations(db)
    await migrations.makemigrations("create posts")
    await migrations.migrate()
    async with db.engine.begin() as connection:
        await connection.execute(text(f"INSERT INTO authors_{suffix} (id) VALUES (7)"))
        await connection.execute(
            text(f"INSERT INTO posts_{suffix} (id, author_id, title) VALUES (1, 7, 'x')")
        )

    # Batch mode rebuilds both tables; rebuilding the parent must not cascade to posts.
    db.metadata = models(suffix, title=False)
    dropped = await migrations.makemigrations("drop title and nickname")
    assert dropped is not None
    assert "batch_alter_table" in dropped.path.read_text()
    await migrations.migrate()

    assert "title" not in await columns(db, f"posts_{suffix}")
    assert "nickname" not in await columns(db, f"authors_{suffix}")
    async with db.engine.connect() as connection:
        rows = await connection.execute(text(f"SELECT id, author_id FROM posts_{suffix}"))
        assert rows.all() == [(1, 7)]
        assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    await db.dispose()


def test_import_trivium_db_does_not_import_alembic() -> None:
    code = "import sys, trivium.db; print('alembic' in sys.modules)"
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
