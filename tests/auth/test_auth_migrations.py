"""The shipped Alembic revisions create exactly the tables the auth models describe."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy import column
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import table

from trivium.auth.migrations import VERSIONS
from trivium.db import Database
from trivium.db import Model

AUTH_TABLES = {
    "auth_permission",
    "auth_group",
    "auth_user",
    "auth_group_permissions",
    "auth_user_groups",
    "auth_user_permissions",
    "auth_api_token",
    "auth_refresh_token",
}


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(VERSIONS), version_locations=[str(VERSIONS)])


def _context(connection: Connection) -> MigrationContext:
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        del parent_names
        return type_ != "table" or name in AUTH_TABLES

    def include_object(obj: Any, name: str | None, type_: str, *args: Any) -> bool:
        del args
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in AUTH_TABLES

    opts = {
        "render_as_batch": True,
        "compare_type": True,
        "include_name": include_name,
        "include_object": include_object,
    }
    return MigrationContext.configure(connection, opts=opts)


def _upgrade(connection: Connection) -> None:
    scripts = list(_scripts().walk_revisions("base", "heads"))
    with Operations.context(_context(connection)):
        for script in reversed(scripts):
            script.module.upgrade()


def _downgrade(connection: Connection) -> None:
    with Operations.context(_context(connection)):
        for script in _scripts().walk_revisions("base", "heads"):
            script.module.downgrade()


def _diff(connection: Connection) -> list[Any]:
    return list(compare_metadata(_context(connection), Model.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) & AUTH_TABLES


def test_revision_is_a_single_head_on_the_auth_branch() -> None:
    scripts = _scripts()
    [head] = scripts.get_heads()
    assert head == "auth_0002"
    assert scripts.get_revision("auth@head").revision == "auth_0002"


@pytest.mark.anyio
async def test_upgrade_matches_the_models_and_downgrade_drops_everything(db_url: str) -> None:
    db = Database(db_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_upgrade)
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_tables) == AUTH_TABLES
            assert await connection.run_sync(_diff) == []
        async with db.engine.begin() as connection:
            await connection.run_sync(_downgrade)
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_tables) == set()
    finally:
        async with db.engine.begin() as connection:
            await connection.run_sync(lambda sync: Model.metadata.drop_all(sync))
        await db.dispose()


USERS = table(
    "auth_user",
    *(column(name) for name in ("email", "username", "password", "is_active", "is_staff")),
    column("is_superuser"),
    column("date_joined"),
)


def _user(email: str, username: str) -> Any:
    flags = {"is_active": True, "is_staff": False, "is_superuser": False}
    joined = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return insert(USERS).values(
        email=email, username=username, password="!", date_joined=joined, **flags
    )


def _apply(connection: Connection, revision: str) -> None:
    with Operations.context(_context(connection)):
        _scripts().get_revision(revision).module.upgrade()


@pytest.mark.anyio
async def test_auth_0002_normalises_stored_identities_and_compares_them_exactly(
    db_url: str,
) -> None:
    db = Database(db_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_apply, "auth_0001")
            await connection.execute(_user(" Ada@Example.COM", "Ada"))
        async with db.engine.begin() as connection:
            await connection.run_sync(_apply, "auth_0002")
            rows = await connection.execute(select(USERS.c.email, USERS.c.username))
            assert rows.all() == [("ada@example.com", "ada")]
            # An accented spelling is another account, on MariaDB too.
            await connection.execute(_user("áda@example.com", "áda"))
            found = await connection.execute(
                select(USERS.c.username).where(USERS.c.email == "ada@example.com")
            )
            assert found.all() == [("ada",)]
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(delete(USERS))
            await connection.run_sync(_downgrade)
            await connection.run_sync(lambda sync: Model.metadata.drop_all(sync))
        await db.dispose()


def test_create_all_makes_the_default_session_stores_table_in_a_fresh_process(
    tmp_path: Path,
) -> None:
    # A fresh interpreter: in this one another test has imported DatabaseStore already.
    script = f"""
import asyncio
from trivium import App
from trivium.auth import Auth, create_user
from trivium.db import Database
from trivium.testing import TestClient

db = Database("sqlite+aiosqlite:///{tmp_path / "app.db"}")
app = App()
Auth(db, secret_key="k" * 40).init_app(app)


async def setup():
    await db.create_all()
    async with db.sessionmaker() as session:
        await create_user(session, email="ada@example.com", password="a long passphrase 1")
        await session.commit()
    await db.dispose()


asyncio.run(setup())
with TestClient(app) as client:
    login = {{"identifier": "ada@example.com", "password": "a long passphrase 1"}}
    print(client.post("/auth/login", json=login).status_code)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "200", done.stderr[-2000:]
