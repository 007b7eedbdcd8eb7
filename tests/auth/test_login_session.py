"""Logging in: another user's session data is dropped, and the CSRF secret changes."""

from __future__ import annotations

from typing import Any

import pytest
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import make_app
from tests.auth.authapp import use_session

from trivium import App
from trivium import Request
from trivium.auth import User
from trivium.db import Database
from trivium.testing import TestClient


def _app(db: Database) -> App:
    app, auth = make_app(db)

    @app.post("/note")
    async def write_note(request: Request) -> None:
        request.session["note"] = "private to whoever wrote it"

    @app.get("/note")
    async def read_note(request: Request) -> Any:
        return request.session.get("note")

    # Changes made "elsewhere" (another device, an admin): no session, no user.
    @app.post("/elsewhere/{user_id}/password")
    async def change_password(user_id: int) -> None:
        async with auth.transaction() as session:
            user = await session.get(User, user_id)
            assert user is not None
            await auth.set_password(session, user, "another long passphrase")

    @app.post("/elsewhere/{user_id}/deactivate")
    async def deactivate(user_id: int) -> None:
        async with auth.transaction() as session:
            user = await session.get(User, user_id)
            assert user is not None
            user.is_active = False

    return app


def _write_note(client: TestClient) -> None:
    assert client.post("/note", headers=csrf(client)).status_code == 200


def test_logging_in_as_another_user_drops_the_previous_users_data(db: Database) -> None:
    add_user(db, username="ada")
    bob = add_user(db, username="bob")
    with TestClient(_app(db)) as client:
        assert login(client, "ada").status_code == 200
        _write_note(client)
        assert login(client, "bob").status_code == 200
        assert client.get("/whoami").json()["id"] == bob
        assert client.get("/note").json() is None


def test_logging_in_again_as_the_same_user_keeps_the_data(db: Database) -> None:
    ada = add_user(db, username="ada")
    with TestClient(_app(db)) as client:
        login(client, "ada")
        _write_note(client)
        assert login(client, "ada").status_code == 200
        assert client.get("/whoami").json()["id"] == ada
        assert client.get("/note").json() == "private to whoever wrote it"


def test_an_anonymous_sessions_data_survives_logging_in(db: Database) -> None:
    add_user(db, username="ada")
    with TestClient(_app(db)) as client:
        _write_note(client)  # a cart filled before logging in, say
        before = client.cookies["session"]
        login(client, "ada")
        assert client.cookies["session"] != before
        assert client.get("/note").json() == "private to whoever wrote it"


def test_the_csrf_secret_changes_at_login(db: Database) -> None:
    add_user(db, username="ada")
    with TestClient(_app(db)) as client:
        old = csrf(client)  # learnt (or planted) before logging in
        assert client.post("/note", headers=old).status_code == 200
        assert login(client, "ada").status_code == 200
        refused = client.post("/write", headers=old)
        assert refused.status_code == 403
        assert client.post("/write", headers=csrf(client)).status_code == 200


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_a_stale_session_hands_no_data_to_the_next_user_logging_in(
    db: Database, change: str
) -> None:
    ada = add_user(db, username="ada")
    bob = add_user(db, username="bob")
    with TestClient(_app(db)) as client:
        assert login(client, "ada").status_code == 200
        _write_note(client)
        browser = client.cookies["session"]
        use_session(client, None)
        assert client.post(f"/elsewhere/{ada}/{change}").status_code == 200
        use_session(client, browser)  # back at the shared browser, bob logs in
        assert login(client, "bob").status_code == 200
        assert client.get("/whoami").json()["id"] == bob
        assert client.get("/note").json() is None


def test_a_stale_session_is_emptied_before_anyone_reads_it(db: Database) -> None:
    ada = add_user(db, username="ada")
    with TestClient(_app(db)) as client:
        login(client, "ada")
        _write_note(client)
        browser = client.cookies["session"]
        use_session(client, None)
        client.post(f"/elsewhere/{ada}/password")
        use_session(client, browser)
        assert client.get("/note").json() is None  # an anonymous visitor reads nothing
        assert client.get("/whoami").json()["authenticated"] is False
