"""The admin over trivium.auth's user model: the password hash is never shown or typed."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import anyio
from sqlalchemy import select
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import App
from trivium.admin import Admin
from trivium.auth import Auth
from trivium.auth import User
from trivium.auth import check_password
from trivium.db import Database
from trivium.stores import MemoryStore
from trivium.testing import TestClient


@contextlib.contextmanager
def users_admin(db: Database) -> Iterator[TestClient]:
    anyio.run(seed, db, 0)
    app = App()
    db.init_app(app)
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore(), site_url="http://testserver")
    auth.init_app(app)
    admin = Admin(db, auth)
    admin.register(User)
    admin.init_app(app)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, "root@example.com")
        yield client


async def _user(db: Database, email: str) -> User:
    db = twin(db)
    async with db.sessionmaker() as session:
        user = (await session.scalars(select(User).where(User.email == email))).one()
    await db.dispose()
    return user


def _password_input(text: str) -> str:
    match = re.search(r'<input[^>]*name="password"[^>]*>', text)
    assert match is not None, text
    return match.group(0)


def test_user_change_page_draws_an_empty_password_input(db: Database) -> None:
    with users_admin(db) as client:
        page = client.get("/admin/trivium/user/1/change")
        field = _password_input(page.text)
        assert 'type="password"' in field
        assert "value=" not in field
        assert "$argon2" not in page.text


def test_password_typed_on_the_add_page_is_stored_hashed(db: Database) -> None:
    with users_admin(db) as client:
        page = client.get("/admin/trivium/user/add")
        answer = client.post(
            "/admin/trivium/user/add",
            data={
                "csrf_token": csrf_of(page),
                "email": "new@example.com",
                "password": "hunter2-plaintext",
                "is_active": "true",
            },
        )
        assert answer.status_code == 303, answer.text
    user = anyio.run(_user, db, "new@example.com")
    assert user.password.startswith("$argon2id$")
    assert anyio.run(check_password, user, "hunter2-plaintext")


def test_add_page_requires_a_password(db: Database) -> None:
    with users_admin(db) as client:
        page = client.get("/admin/trivium/user/add")
        answer = client.post(
            "/admin/trivium/user/add",
            data={"csrf_token": csrf_of(page), "email": "new@example.com", "password": ""},
        )
        assert answer.status_code == 422


def test_empty_password_on_the_change_page_keeps_the_current_one(db: Database) -> None:
    before = None
    with users_admin(db) as client:
        before = anyio.run(_user, db, "staff@example.com").password
        page = client.get("/admin/trivium/user/2/change")
        etag = re.search(r'name="_etag" value="([^"]+)"', page.text)
        assert etag is not None
        answer = client.post(
            "/admin/trivium/user/2/change",
            data={
                "csrf_token": csrf_of(page),
                "_etag": etag.group(1).replace("&#34;", '"'),
                "email": "staff@example.com",
                "password": "",
                "is_active": "true",
                "is_staff": "true",
            },
        )
        assert answer.status_code == 303, answer.text
    assert anyio.run(_user, db, "staff@example.com").password == before


def test_a_password_breaking_the_rules_is_refused_with_their_messages(db: Database) -> None:
    """The admin applies the app's password rules, as sign-up and password change do."""
    with users_admin(db) as client:
        page = client.get("/admin/trivium/user/add")
        answer = client.post(
            "/admin/trivium/user/add",
            data={
                "csrf_token": csrf_of(page),
                "email": "weak@example.com",
                "password": "password",
                "is_active": "true",
            },
        )
        assert answer.status_code == 422
        assert "too common" in answer.text
        similar = client.post(
            "/admin/trivium/user/add",
            data={
                "csrf_token": csrf_of(page),
                "email": "weakling-person@example.com",
                "password": "weakling-person",
                "is_active": "true",
            },
        )
        assert similar.status_code == 422
        assert "too similar" in similar.text
    assert anyio.run(_count_like, db, "weak%") == 0


async def _count_like(db: Database, pattern: str) -> int:
    db = twin(db)
    async with db.sessionmaker() as session:
        found = (await session.scalars(select(User).where(User.email.like(pattern)))).all()
    await db.dispose()
    return len(found)
