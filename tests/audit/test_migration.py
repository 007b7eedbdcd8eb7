"""The shipped revision creates exactly the table `AuditEntry` describes, on its own branch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy import inspect
from sqlalchemy import text
from tests.audit.models import SUFFIX

from trivium import App
from trivium.audit import TABLE
from trivium.audit import Audit
from trivium.audit import AuditEntry
from trivium.db import Database
from trivium.db import Migrations
from trivium.db import Model

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


def _diff(connection: Connection) -> list[Any]:
    def include_object(obj: Any, name: str | None, type_: str, *args: Any) -> bool:
        del args
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table == TABLE

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": include_object}
    )
    return list(compare_metadata(context, Model.metadata))


def _has_table(connection: Connection) -> bool:
    return TABLE in inspect(connection).get_table_names()


async def test_migrate_creates_the_table_and_downgrade_drops_it(
    db: Database, tmp_path: Path
) -> None:
    (tmp_path / "migrations").mkdir()
    db.migrations = tmp_path / "migrations"
    db.version_table = f"audit_version_{SUFFIX}"
    app = App()
    db.init_app(app)
    audit = Audit(db)
    app.install(audit)
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: AuditEntry.__table__.drop(sync, checkfirst=True))
    try:
        applied = await Migrations(db).migrate()
        assert [revision.id for revision in applied] == ["audit_0001"]
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_has_table)
            assert await connection.run_sync(_diff) == []
        await Migrations(db).downgrade("audit@base")
        async with db.engine.connect() as connection:
            assert not await connection.run_sync(_has_table)
    finally:
        audit.close()
        async with db.engine.begin() as connection:
            await connection.execute(text(f"DROP TABLE IF EXISTS {db.version_table}"))
        await db.dispose()
