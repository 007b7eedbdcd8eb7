"""Rotating the secret key: with the old key as a fallback, nobody is logged out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.auth.authapp import add_user
from tests.auth.authapp import login

from trivium import App
from trivium import Request
from trivium.auth import Auth
from trivium.auth import MemoryMailer
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.sessions import Sessions
from trivium.stores import MemoryStore
from trivium.testing import TestClient

OLD = "old-secret-key-" + "o" * 40
NEW = "new-secret-key-" + "n" * 40


def _app(
    db: Database, store: MemoryStore, *, sessions: Sessions | None = None, **options: Any
) -> App:
    app = App()
    db.init_app(app)
    if sessions is not None:
        app.install(sessions)
    options.setdefault("secret_key", NEW)
    options.setdefault("reset_url", "https://testserver/reset?token={token}")
    Auth(db, session_store=store, site_url="http://testserver", **options).init_app(app)

    @app.get("/whoami")
    async def whoami(request: Request) -> Any:
        return request.user.id

    return app


def _log_in_under_the_old_key(db: Database, store: MemoryStore) -> str:
    with TestClient(_app(db, store, secret_key=OLD)) as client:
        assert login(client, "ada").status_code == 200
        return client.cookies["session"]


def test_a_session_made_with_a_fallback_key_stays_logged_in(db: Database) -> None:
    ada = add_user(db, username="ada")
    store = MemoryStore()
    cookie = _log_in_under_the_old_key(db, store)
    with TestClient(_app(db, store, fallback_secret_keys=[OLD])) as client:
        client.cookies.set("session", cookie)
        response = client.get("/whoami")
        assert response.json() == ada
        renewed = response.cookies["session"]
    # Signed anew with the new key: the old one can now be dropped.
    with TestClient(_app(db, store)) as client:
        client.cookies.set("session", renewed)
        assert client.get("/whoami").json() == ada


def test_the_fallback_keys_of_the_apps_own_sessions_plugin_count_too(db: Database) -> None:
    ada = add_user(db, username="ada")
    store = MemoryStore()
    cookie = _log_in_under_the_old_key(db, store)
    sessions = Sessions(secret_key=NEW, fallback_secret_keys=[OLD], store=store)
    with TestClient(_app(db, store, sessions=sessions)) as client:
        client.cookies.set("session", cookie)
        assert client.get("/whoami").json() == ada


def test_without_the_old_key_a_rotation_logs_everyone_out(db: Database) -> None:
    add_user(db, username="ada")
    store = MemoryStore()
    cookie = _log_in_under_the_old_key(db, store)
    with TestClient(_app(db, store)) as client:
        client.cookies.set("session", cookie)
        assert client.get("/whoami").json() is None


def test_a_reset_link_mailed_before_the_rotation_still_works(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    store, mailer = MemoryStore(), MemoryMailer()
    with TestClient(_app(db, store, secret_key=OLD, mail=mailer)) as client:
        sent = client.post("/auth/password/reset", json={"email": "ada@example.com"})
        assert sent.status_code == 202
    [message] = mailer.outbox
    match = re.search(r"token=(\S+)", message.get_content())
    assert match is not None
    token = match.group(1)
    with TestClient(_app(db, store, fallback_secret_keys=[OLD])) as client:
        body = {"token": token, "new_password": "a brand new long passphrase"}
        assert client.post("/auth/password/reset/confirm", json=body).status_code == 200


@pytest.mark.parametrize("fallbacks", [OLD, ["too short"]])
def test_fallback_keys_are_a_list_of_long_keys(db: Database, fallbacks: Any) -> None:
    with pytest.raises(ConfigurationError, match="fallback_secret_keys"):
        Auth(db, secret_key=NEW, fallback_secret_keys=fallbacks)
