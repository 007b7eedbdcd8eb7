"""A revision adding an enum value, then one using it, applied by one `migrate`.

PostgreSQL lets no statement use a new enum value in the transaction that added it; the
generated revision commits after adding it, so a fresh database migrates in one go.
"""

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
from sqlalchemy import Table
from sqlalchemy import text

from trivium.db import NAMING_CONVENTION
from trivium.db import Database
from trivium.db import Migrations

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]

BACKENDS = {"postgresql": "TRIVIUM_TEST_POSTGRES_URL"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    if request.param != "sqlite":
        url = os.environ.get(BACKENDS[request.param], "")
        if not url:
            pytest.skip(f"{request.param} tests need {BACKENDS[request.param]}")
    suffix = uuid.uuid4().hex[:8]
    database = Database(url, migrations=tmp_path / "migrations", metadata=MetaData())
    database.version_table = f"versions_{suffix}"
    database.suffix = suffix  # type: ignore[attr-defined]
    yield database
    async with database.engine.begin() as connection:
        for name in ("paints", "versions"):
            await connection.execute(text(f"DROP TABLE IF EXISTS {name}_{suffix}"))
        if database.engine.dialect.name == "postgresql":
            await connection.execute(text(f"DROP TYPE IF EXISTS shade_{suffix}"))
    await database.dispose()


def paints(suffix: str, *shades: str) -> MetaData:
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    columns: list[Column[Any]] = [
        Column("id", Integer, primary_key=True),
        Column("shade", Enum(*shades, name=f"shade_{suffix}"), nullable=True),
    ]
    Table(f"paints_{suffix}", metadata, *columns)
    return metadata


async def test_a_new_enum_value_is_usable_by_the_next_revision_of_the_same_migrate(
    db: Database,
) -> None:
    suffix: str = db.suffix  # type: ignore[attr-defined]
    migrations = Migrations(db)
    db.metadata = paints(suffix, "red", "green")
    await migrations.makemigrations("paints")
    await migrations.migrate()
    db.metadata = paints(suffix, "red", "green", "purple")
    await migrations.makemigrations("add purple")
    data = await migrations.makemigrations("paint it purple", empty=True)
    assert data is not None
    source = data.path.read_text()
    insert = f"op.execute(\"INSERT INTO paints_{suffix} (shade) VALUES ('purple')\")"
    data.path.write_text(source.replace("    pass", f"    {insert}", 1))

    await migrations.downgrade("base")
    applied = await migrations.migrate()

    assert [revision.message for revision in applied] == ["paints", "add purple", "paint it purple"]
    async with db.engine.connect() as connection:
        shades = await connection.execute(text(f"SELECT shade FROM paints_{suffix}"))  # noqa: S608
        assert [shade for (shade,) in shades] == ["purple"]
    assert await migrations.check() == []
