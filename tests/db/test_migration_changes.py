"""Migrations of enum types (created, extended, dropped with their columns) and of column renames."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column
from sqlalchemy import Enum
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import text

from trivium.db import NAMING_CONVENTION
from trivium.db import Database
from trivium.db import MigrationError
from trivium.db import Migrations

BACKENDS = {"postgresql": "TRIVIUM_TEST_POSTGRES_URL", "mysql": "TRIVIUM_TEST_MYSQL_URL"}

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    backend: str = request.param
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    if backend != "sqlite":
        url = os.environ.get(BACKENDS[backend], "")
        if not url:
            pytest.skip(f"{backend} tests need {BACKENDS[backend]}")
    suffix = uuid.uuid4().hex[:8]
    database = Database(url, migrations=tmp_path / "migrations", metadata=MetaData())
    database.version_table = f"versions_{suffix}"
    database.suffix = suffix  # type: ignore[attr-defined]
    yield database
    async with database.engine.begin() as connection:
        for name in ("gadgets", "people", "versions"):
            await connection.execute(text(f"DROP TABLE IF EXISTS {name}_{suffix}"))
        if database.engine.dialect.name == "postgresql":
            await connection.execute(text(f"DROP TYPE IF EXISTS color_{suffix}"))
    await database.dispose()


def gadgets(db: Database, colors: tuple[str, ...] | None, *, extra: bool = False) -> MetaData:
    suffix = db.suffix  # type: ignore[attr-defined]
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    columns: list[Column[Any]] = [Column("id", Integer, primary_key=True)]
    if colors is not None:
        columns.append(Column("color", Enum(*colors, name=f"color_{suffix}"), nullable=True))
    if extra:
        columns.append(Column("label", String(20), nullable=True))
    Table(f"gadgets_{suffix}", metadata, *columns)
    return metadata


async def enum_type_exists(db: Database) -> bool:
    if db.engine.dialect.name != "postgresql":
        return False
    async with db.engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT count(*) FROM pg_type WHERE typname = :name"),
            {"name": f"color_{db.suffix}"},  # type: ignore[attr-defined]
        )
    return bool(found)


async def insert_color(db: Database, color: str) -> None:
    async with db.engine.begin() as connection:
        table = f"gadgets_{db.suffix}"  # type: ignore[attr-defined]
        await connection.execute(text(f"INSERT INTO {table} (color) VALUES (:c)"), {"c": color})  # noqa: S608


async def test_enum_types_follow_their_tables_and_added_values(db: Database) -> None:
    migrations = Migrations(db)
    postgres = db.engine.dialect.name == "postgresql"
    db.metadata = gadgets(db, ("red", "green"))
    assert await migrations.makemigrations("gadgets") is not None
    await migrations.migrate()
    assert await enum_type_exists(db) == postgres
    assert await migrations.check() == []

    # A new value (longer than the others, so SQLite's VARCHAR grows too) is detected.
    db.metadata = gadgets(db, ("red", "green", "magenta"))
    differences = await migrations.check()
    assert len(differences) == 1, differences
    if postgres:
        assert differences == [f"add values 'magenta' to enum type color_{db.suffix}"]  # type: ignore[attr-defined]
    added = await migrations.makemigrations("magenta")
    assert added is not None
    source = added.path.read_text()
    if postgres:
        assert f"ALTER TYPE color_{db.suffix} ADD VALUE IF NOT EXISTS 'magenta'" in source  # type: ignore[attr-defined]
        assert "PostgreSQL cannot remove values (magenta)" in source
    await migrations.migrate()
    assert await migrations.check() == []
    await insert_color(db, "magenta")
    async with db.engine.begin() as connection:
        # MariaDB's downgrade narrows its ENUM again, which a 'magenta' row would refuse.
        await connection.execute(text(f"DELETE FROM gadgets_{db.suffix}"))  # type: ignore[attr-defined]  # noqa: S608

    # Going down to nothing removes the type, so migrating again works.
    await migrations.downgrade("-1")
    await migrations.downgrade("base")
    assert not await enum_type_exists(db)
    await migrations.migrate()
    assert await enum_type_exists(db) == postgres
    assert await migrations.check() == []


async def test_an_enum_column_added_and_dropped_brings_its_type(db: Database) -> None:
    migrations = Migrations(db)
    postgres = db.engine.dialect.name == "postgresql"
    db.metadata = gadgets(db, None)
    await migrations.makemigrations("gadgets")
    await migrations.migrate()
    db.metadata = gadgets(db, ("red", "green"))
    added = await migrations.makemigrations("add color")
    assert added is not None
    assert ".create(op.get_bind(), checkfirst=True)" in added.path.read_text()
    await migrations.migrate()
    assert await enum_type_exists(db) == postgres
    await insert_color(db, "red")
    assert await migrations.check() == []
    await migrations.downgrade("-1")
    assert not await enum_type_exists(db)
    await migrations.migrate()
    assert await enum_type_exists(db) == postgres
    assert await migrations.check() == []


def people(db: Database, *columns: Column[Any]) -> MetaData:
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    suffix = db.suffix  # type: ignore[attr-defined]
    Table(f"people_{suffix}", metadata, Column("id", Integer, primary_key=True), *columns)
    return metadata


async def names_in(db: Database, column: str) -> list[str]:
    async with db.engine.connect() as connection:
        table = f"people_{db.suffix}"  # type: ignore[attr-defined]
        rows = await connection.execute(text(f"SELECT {column} FROM {table} ORDER BY id"))  # noqa: S608
        return [row[0] for row in rows]


async def test_a_renamed_column_keeps_its_data(db: Database) -> None:
    migrations = Migrations(db)
    table = f"people_{db.suffix}"  # type: ignore[attr-defined]
    db.metadata = people(db, Column("name", String(50), nullable=True))
    await migrations.makemigrations("people")
    await migrations.migrate()
    async with db.engine.begin() as connection:
        await connection.execute(text(f"INSERT INTO {table} (name) VALUES ('Ada'), ('Grace')"))  # noqa: S608

    db.metadata = people(db, Column("full_name", String(50), nullable=True))
    # Nobody said whether it is a rename: refused, with the way out.
    with pytest.raises(MigrationError, match=rf"--rename {table}.name:full_name") as caught:
        await migrations.makemigrations("rename")
    assert f"--drop {table}.name" in str(caught.value)
    assert list(db.migrations.glob("*rename*")) == []
    with pytest.raises(MigrationError, match="cannot rename"):
        await migrations.makemigrations(
            "rename", renames={f"{table}.nope": "full_name"}, drops=[f"{table}.name"]
        )

    renamed = await migrations.makemigrations("rename", renames={f"{table}.name": "full_name"})
    assert renamed is not None
    assert "new_column_name='full_name'" in renamed.path.read_text()
    await migrations.migrate()
    assert await names_in(db, "full_name") == ["Ada", "Grace"]
    assert await migrations.check() == []
    await migrations.downgrade("-1")
    assert await names_in(db, "name") == ["Ada", "Grace"]
    renamed.path.unlink()


async def test_a_rename_may_be_asked_or_a_drop_confirmed(db: Database) -> None:
    migrations = Migrations(db)
    table = f"people_{db.suffix}"  # type: ignore[attr-defined]
    db.metadata = people(db, Column("name", String(50), nullable=True))
    await migrations.makemigrations("people")
    await migrations.migrate()
    db.metadata = people(db, Column("alias", String(50), nullable=True))
    asked = []

    def ask(candidate: Any) -> bool:
        asked.append((candidate.key, candidate.new))
        return True

    revision = await migrations.makemigrations("ask", ask=ask)
    assert asked == [(f"{table}.name", "alias")]
    assert revision is not None
    assert "new_column_name='alias'" in revision.path.read_text()
    revision.path.unlink()

    dropped = await migrations.makemigrations("drop", drops=[f"{table}.name"])
    assert dropped is not None
    source = dropped.path.read_text()
    assert "drop_column('name')" in source or f"drop_column('{table}', 'name')" in source
    assert "new_column_name" not in source
    # Another type: never a rename candidate.
    dropped.path.unlink()
    db.metadata = people(db, Column("age", Integer, nullable=True))
    assert await migrations.makemigrations("retype") is not None
