"""The admin's user form refuses another user's email or user name, in either field (as auth does)."""

from __future__ import annotations

import re
from typing import Any

import anyio
import httpx
from sqlalchemy import select
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import twin
from tests.admin.test_admin_users import users_admin

from trivium.auth import User
from trivium.db import Database
from trivium.testing import TestClient

TAKEN = "is already another user&#39;s email address or user name"


async def _identity(db: Database, pk: int) -> tuple[Any, Any]:
    db = twin(db)
    async with db.sessionmaker() as session:
        user = (await session.scalars(select(User).where(User.id == pk))).one()
        found = (user.email, user.username)
    await db.dispose()
    return found


def _change(client: TestClient, db: Database, pk: int, **values: str) -> httpx.Response:
    page = client.get(f"/admin/trivium/user/{pk}/change")
    etag = re.search(r'name="_etag" value="([^"]+)"', page.text)
    assert etag is not None
    email, username = anyio.run(_identity, db, pk)
    data = {
        "csrf_token": csrf_of(page),
        "_etag": etag.group(1).replace("&#34;", '"'),
        "email": email or "",
        "username": username or "",
        "password": "",
        "is_active": "true",
        **values,
    }
    return client.post(f"/admin/trivium/user/{pk}/change", data=data)


def _add(client: TestClient, **values: str) -> httpx.Response:
    page = client.get("/admin/trivium/user/add")
    data = {
        "csrf_token": csrf_of(page),
        "password": "a long and unusual passphrase 42",
        "is_active": "true",
        **values,
    }
    return client.post("/admin/trivium/user/add", data=data)


def _errors_of(page: httpx.Response, name: str) -> str:
    """The text from the field `name` on (its input and its error messages)."""
    start = page.text.index(f'name="{name}"')
    return page.text[start : start + 1500]


def test_a_user_name_that_is_another_users_email_is_refused(db: Database) -> None:
    with users_admin(db) as client:
        refused = _change(client, db, 3, username="Staff@Example.COM")
        assert refused.status_code == 422, refused.text
        assert TAKEN in _errors_of(refused, "username")
        assert anyio.run(_identity, db, 3) == ("plain@example.com", None)


def test_an_email_that_is_another_users_user_name_is_refused(db: Database) -> None:
    with users_admin(db) as client:
        named = _change(client, db, 2, username="boss@example.com")  # nobody's email: allowed
        assert named.status_code == 303, named.text
        refused = _add(client, email="BOSS@example.com")
        assert refused.status_code == 422, refused.text
        assert TAKEN in _errors_of(refused, "email")
        again = _change(client, db, 3, email="Boss@Example.com")
        assert again.status_code == 422, again.text
        assert TAKEN in _errors_of(again, "email")
        taken_name = _add(client, email="new@example.com", username="BOSS@EXAMPLE.COM")
        assert taken_name.status_code == 422
        assert TAKEN in _errors_of(taken_name, "username")
        assert anyio.run(_identity, db, 3) == ("plain@example.com", None)


def test_a_user_keeping_its_own_email_and_user_name_is_saved(db: Database) -> None:
    with users_admin(db) as client:
        own = _change(client, db, 2, username="staff@example.com")  # its own email: fine
        assert own.status_code == 303, own.text
        kept = _change(client, db, 2, is_staff="true")
        assert kept.status_code == 303, kept.text
        added = _add(client, email="fresh@example.com", username="fresh")
        assert added.status_code == 303, added.text
        assert anyio.run(_identity, db, 2) == ("staff@example.com", "staff@example.com")
