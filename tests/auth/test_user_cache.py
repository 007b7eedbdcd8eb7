"""The per-process user cache: rows served from memory, forgotten on every write."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine
from tests.auth.authapp import login_as
from tests.auth.authapp import make_app

from trivium.auth import Auth
from trivium.auth import CurrentUser
from trivium.auth import User
from trivium.db import Database
from trivium.db import async_url
from trivium.errors import ConfigurationError
from trivium.stores import DatabaseStore
from trivium.testing import TestClient


def _app(db: Database, **options: Any) -> tuple[Any, Auth]:
    app, auth = make_app(db, **options)

    @app.post("/rename/orm/{user_id}")
    async def rename_orm(user_id: int, name: str) -> None:
        async with db.sessionmaker() as session:
            user = await session.get(User, user_id)
            assert user is not None
            user.email = name
            await session.commit()

    @app.post("/rename/core/{user_id}")
    async def rename_core(user_id: int, name: str) -> None:
        async with db.autocommit_engine.connect() as connection:
            await connection.execute(update(User).where(User.id == user_id).values(email=name))

    @app.post("/deactivate/text/{user_id}")
    async def deactivate_text(user_id: int) -> None:
        async with db.engine.begin() as connection:
            statement = text("UPDATE auth_user SET is_active = :no WHERE id = :id")
            await connection.execute(statement, {"no": False, "id": user_id})

    @app.post("/staff/text/{user_id}")
    async def staff_text(user_id: int) -> None:
        # SQL names are case-insensitive: this writes the users' table all the same
        # (MySQL on Linux excepted: its table names follow the file system's case).
        table = "auth_user" if db.url.get_backend_name() == "mysql" else "AUTH_USER"
        async with db.engine.begin() as connection:
            statement = text(f"UPDATE {table} SET IS_STAFF = :yes WHERE ID = :id")  # noqa: S608
            await connection.execute(statement, {"yes": True, "id": user_id})

    @app.get("/is-staff")
    async def is_staff(user: CurrentUser) -> bool:
        return bool(user.is_staff)  # the request's user: from the cache when it holds it

    return app, auth


def _email(client: TestClient) -> str:
    response = client.get("/auth/me")
    assert response.status_code == 200, response.text
    return str(response.json()["email"])


def _add(db: Database, username: str) -> int:
    from tests.auth.authapp import add_user

    return add_user(db, username=username, email="ada@example.com")


def test_writes_through_the_app_are_seen_by_the_next_request(db: Database) -> None:
    user_id = _add(db, "ada")
    app, auth = _app(db, user_cache_seconds=300)
    with TestClient(app) as client:
        login_as(client, "ada")
        assert _email(client) == "ada@example.com"
        assert auth.users.cache is not None
        assert auth.users.cache.get(user_id) is not None  # served from memory now
        assert client.get("/is-staff").json() is False
        assert client.post(f"/staff/text/{user_id}").status_code == 200
        assert client.get("/is-staff").json() is True
        assert client.post(f"/rename/orm/{user_id}?name=grace@example.com").status_code == 200
        assert _email(client) == "grace@example.com"
        assert client.post(f"/rename/core/{user_id}?name=joan@example.com").status_code == 200
        assert _email(client) == "joan@example.com"
        assert client.post(f"/deactivate/text/{user_id}").status_code == 200
        assert client.get("/auth/me").status_code == 401


def test_a_write_the_app_does_not_see_waits_for_the_entry_to_expire(db: Database) -> None:
    user_id = _add(db, "ada")
    app, _ = _app(db, user_cache_seconds=300)

    async def rename_elsewhere() -> None:  # another program, on its own connection
        engine = create_async_engine(async_url(str(db.url)))
        try:
            async with engine.begin() as connection:
                statement = update(User).where(User.id == user_id).values(email="other@example.com")
                await connection.execute(statement)
        finally:
            await engine.dispose()

    with TestClient(app) as client:
        login_as(client, "ada")
        assert _email(client) == "ada@example.com"
        anyio.run(rename_elsewhere)
        assert _email(client) == "ada@example.com"  # the cached row, until user_cache_seconds pass
    uncached, _ = _app(db, user_cache_seconds=0)
    with TestClient(uncached) as client:
        login_as(client, "ada")
        assert _email(client) == "other@example.com"


def test_the_cache_is_off_with_sessions_in_the_database(db: Database) -> None:
    app, auth = _app(db, session_store=DatabaseStore(db))
    with TestClient(app):
        assert auth.users.cache is None


@pytest.mark.parametrize("seconds", [-1, "5", True])
def test_a_bad_cache_duration_is_refused(db: Database, seconds: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Auth(db, secret_key="x" * 40, user_cache_seconds=seconds)
    assert caught.value.code == "auth-user-cache"
