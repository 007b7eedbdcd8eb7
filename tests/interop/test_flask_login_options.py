"""FlaskLogin follows the Flask app's session protection and its secret key fallbacks.

With Flask-Login's `session_protection = "strong"`, a session cookie replayed from
another client (another address or User-Agent than at the login) is refused by Flask,
and must be anonymous in trivium too. With Flask 3.1's `SECRET_KEY_FALLBACKS`, a cookie
signed with an older key is still a login in Flask, and in trivium with `fallback_keys`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import anyio
import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from tests.interop import flask_login_legacy

from trivium import App
from trivium import Request
from trivium.auth import Auth
from trivium.auth import create_user
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.interop import FlaskLogin
from trivium.interop import WSGIApp
from trivium.sessions import Sessions
from trivium.stores import MemoryStore
from trivium.testing import TestClient

SECRET = "trivium-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
OLD_KEY = "the-flask-key-before-the-rotation"
ANN = {"user-agent": "Mozilla/5.0 (ann's browser)"}


@pytest.fixture
def databases(tmp_path: Path) -> tuple[Database, Database, Path]:
    import trivium.auth  # noqa: F401 - the auth tables

    trivium_db = Database(f"sqlite+aiosqlite:///{tmp_path / 'trivium.sqlite3'}")

    async def prepare() -> None:
        await trivium_db.create_all()
        async with trivium_db.sessionmaker() as session:
            await create_user(session, email="ann@example.com", password="pw-ann-123-long")
            await session.commit()
        await trivium_db.dispose()

    anyio.run(prepare)
    path = tmp_path / "flask.sqlite3"
    flask_login_legacy.create_database(path, {1: "ann@example.com"})
    return trivium_db, Database(f"sqlite+aiosqlite:///{path}"), path


def build(databases: tuple[Database, Database, Path], legacy: Flask, **options: Any) -> App:
    trivium_db, legacy_db, _ = databases
    auth = Auth(trivium_db, secret_key=SECRET, session_store=MemoryStore())
    plugin = FlaskLogin(auth, legacy_db=legacy_db, **options)
    app = App()
    trivium_db.init_app(app)
    app.install(Sessions(secret_key=SECRET, store=MemoryStore(), cookie_name="trivium_session"))
    auth.init_app(app)
    app.install(plugin)

    @app.get("/me")
    async def me(request: Request) -> dict[str, Any]:
        user = request.user
        return {"email": user.email if user.is_authenticated else None}

    app.mount("/old", WSGIApp(legacy))
    return app


def strong_flask(path: Path) -> Flask:
    legacy = flask_login_legacy.create_app(path)
    legacy.config["SESSION_PROTECTION"] = "strong"
    return legacy


def strong_app(databases: tuple[Database, Database, Path]) -> App:
    return build(
        databases,
        strong_flask(databases[2]),
        secret_key=flask_login_legacy.SECRET,
        session_protection="strong",
    )


def test_strong_protection_refuses_a_cookie_replayed_from_another_user_agent(databases):
    with TestClient(strong_app(databases), headers=ANN) as client:
        assert client.post("/old/login/1").json() == {"ok": True}
        assert client.get("/me").json() == {"email": "ann@example.com"}
        other = {"user-agent": "curl/8.0"}
        assert client.get("/me", headers=other).json() == {"email": None}
        assert client.get("/me").json() == {"email": "ann@example.com"}  # still Ann's
        assert client.get("/old/me", headers=other).json() == {"email": None}  # as Flask


def test_strong_protection_refuses_a_cookie_replayed_from_another_address(databases):
    forwarded = {"x-forwarded-for": "203.0.113.5, 10.0.0.1"}
    with TestClient(strong_app(databases), headers={**ANN, **forwarded}) as client:
        client.post("/old/login/1")
        assert client.get("/me").json() == {"email": "ann@example.com"}
        # Only the first address counts, as in Flask-Login.
        same_client = {"x-forwarded-for": "203.0.113.5, 10.9.9.9"}
        assert client.get("/me", headers=same_client).json() == {"email": "ann@example.com"}
        elsewhere = {"x-forwarded-for": "198.51.100.7"}
        assert client.get("/me", headers=elsewhere).json() == {"email": None}
        assert client.get("/old/me", headers=elsewhere).json() == {"email": None}


def test_strong_protection_reads_the_identifier_flask_login_wrote(databases):
    # A User-Agent with a byte outside ASCII, no X-Forwarded-For: the peer's address.
    agent = {"user-agent": b"agent \xe9 1.0"}
    with TestClient(strong_app(databases), headers=agent, client=("192.0.2.9", 4000)) as client:
        client.post("/old/login/1")
        assert client.get("/old/me").json() == {"email": "ann@example.com"}  # Flask agrees
        assert client.get("/me").json() == {"email": "ann@example.com"}
    with TestClient(strong_app(databases), headers=agent, client=("192.0.2.10", 4000)) as other:
        other.cookies = client.cookies
        assert other.get("/me").json() == {"email": None}


def signed(data: dict[str, Any], key: str = flask_login_legacy.SECRET) -> str:
    serializer = URLSafeTimedSerializer(
        key,
        salt="cookie-session",
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    return serializer.dumps(data)


def test_strong_protection_lets_a_permanent_session_through_as_flask_login_does(databases):
    with TestClient(strong_app(databases), headers=ANN) as client:
        client.cookies.set("session", signed({"_user_id": "1", "_id": "x", "_permanent": True}))
        assert client.get("/me").json() == {"email": "ann@example.com"}
        client.cookies.set("session", signed({"_user_id": "1", "_id": "x"}))
        assert client.get("/me").json() == {"email": None}
        client.cookies.set("session", signed({"_user_id": "1"}))  # no `_id` at all
        assert client.get("/me").json() == {"email": None}


def test_basic_protection_keeps_a_session_from_another_user_agent(databases):
    app = build(
        databases,
        flask_login_legacy.create_app(databases[2]),
        secret_key=flask_login_legacy.SECRET,
    )
    with TestClient(app, headers=ANN) as client:
        client.post("/old/login/1")
        other = {"user-agent": "curl/8.0"}
        assert client.get("/me", headers=other).json() == {"email": "ann@example.com"}
        assert client.get("/old/me", headers=other).json() == {"email": "ann@example.com"}


def rotated_flask(path: Path) -> Flask:
    legacy = flask_login_legacy.create_app(path)
    legacy.config["SECRET_KEY"] = "the-flask-key-after-the-rotation"
    legacy.config["SECRET_KEY_FALLBACKS"] = [OLD_KEY]
    return legacy


def test_a_cookie_signed_with_a_fallback_key_is_a_login(databases):
    app = build(
        databases,
        rotated_flask(databases[2]),
        secret_key="the-flask-key-after-the-rotation",
        fallback_keys=[OLD_KEY],
    )
    with TestClient(app) as client:
        client.cookies.set("session", signed({"_user_id": "1"}, OLD_KEY))
        # trivium first: Flask-Login's view marks the session not fresh, and Flask
        # signs it again with the current key.
        assert client.get("/me").json() == {"email": "ann@example.com"}
        assert client.get("/old/me").json() == {"email": "ann@example.com"}


def test_without_fallback_keys_an_old_cookie_is_anonymous(databases):
    app = build(
        databases, rotated_flask(databases[2]), secret_key="the-flask-key-after-the-rotation"
    )
    with TestClient(app) as client:
        client.cookies.set("session", signed({"_user_id": "1"}, OLD_KEY))
        assert client.get("/me").json() == {"email": None}


def test_the_current_key_still_signs_in_with_fallback_keys_given(databases):
    app = build(
        databases,
        rotated_flask(databases[2]),
        secret_key="the-flask-key-after-the-rotation",
        fallback_keys=[OLD_KEY],
    )
    with TestClient(app) as client:
        client.post("/old/login/1")  # Flask signs with its current key
        assert client.get("/me").json() == {"email": "ann@example.com"}
        client.cookies.set("session", signed({"_user_id": "1"}, "a-key-nobody-knows"))
        assert client.get("/me").json() == {"email": None}


@pytest.mark.parametrize(
    "options",
    [
        {"session_protection": "STRONG"},
        {"fallback_keys": [""]},
        {"fallback_keys": [b"bytes"]},
    ],
)
def test_bad_flask_login_options_are_refused_at_start_up(databases, options):
    trivium_db, legacy_db, _ = databases
    auth = Auth(trivium_db, secret_key=SECRET, session_store=MemoryStore())
    with pytest.raises(ConfigurationError) as info:
        FlaskLogin(auth, secret_key=flask_login_legacy.SECRET, legacy_db=legacy_db, **options)
    assert info.value.code == "interop-login"
