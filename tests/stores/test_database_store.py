"""DatabaseStore specifics: the default table on Model.metadata, purging, the migration."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import anyio
import pytest
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy import inspect

import trivium.stores
from trivium.db import NAMING_CONVENTION
from trivium.db import Database
from trivium.db import Model
from trivium.errors import ConfigurationError
from trivium.stores import DatabaseStore
from trivium.stores._database import store_table

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]

MIGRATIONS = Path(trivium.stores.__file__).parent / "migrations"


async def test_default_table_is_declared_on_model_metadata(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    store = DatabaseStore(db)
    assert store.table.name == "trivium_store"
    assert Model.metadata.tables["trivium_store"] is store.table
    await db.create_all()
    await store.set("k", b"v", ttl=60)
    assert await store.get("k") == b"v"
    await db.dispose()


async def test_purge_expired_deletes_only_expired_rows(tmp_path: Path) -> None:
    store = DatabaseStore(Database(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"), table="purge")
    await store.db.create_all(store.table.metadata)
    await store.set("gone", b"v", ttl=0.1)
    await store.set("kept", b"v", ttl=60)
    await store.set("forever", b"v")
    await anyio.sleep(0.2)
    assert await store.purge_expired() == 1
    assert await store.purge_expired() == 0
    assert await store.get("kept") == b"v"
    assert await store.get("forever") == b"v"
    await store.db.dispose()


async def test_overlong_keys_are_refused(tmp_path: Path) -> None:
    store = DatabaseStore(Database(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"), table="keys")
    with pytest.raises(ValueError, match="at most 255"):
        await store.set("k" * 256, b"v")


def test_empty_table_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        DatabaseStore(Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"), table="")
    assert info.value.code == "store-table"


def _revision() -> object:
    (path,) = MIGRATIONS.glob("*.py")
    spec = importlib.util.spec_from_file_location("trivium_stores_0001", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_revision_is_on_the_stores_branch() -> None:
    revision = _revision()
    assert revision.branch_labels == ("stores",)  # type: ignore[attr-defined]
    assert revision.down_revision is None  # type: ignore[attr-defined]


async def test_migration_matches_the_model(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}")
    revision = _revision()
    expected = MetaData(naming_convention=NAMING_CONVENTION)
    store_table().to_metadata(expected)

    def upgrade_and_compare(connection: object) -> list[object]:
        context = MigrationContext.configure(connection)  # type: ignore[arg-type]
        with Operations.context(context):
            revision.upgrade()  # type: ignore[attr-defined]
        return list(compare_metadata(context, expected))

    def downgrade(connection: object) -> list[str]:
        context = MigrationContext.configure(connection)  # type: ignore[arg-type]
        with Operations.context(context):
            revision.downgrade()  # type: ignore[attr-defined]
        return list(inspect(connection).get_table_names())

    async with db.engine.begin() as connection:
        assert await connection.run_sync(upgrade_and_compare) == []
    store = DatabaseStore(db)
    await store.set("k", b"v")
    assert await store.get("k") == b"v"
    async with db.engine.begin() as connection:
        assert "trivium_store" not in await connection.run_sync(downgrade)
    await db.dispose()
