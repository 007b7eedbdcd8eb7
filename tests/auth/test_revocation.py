"""Credential changes revoke what they should; tokens cannot outgrow their parent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import login_as
from tests.auth.authapp import make_app
from tests.auth.authapp import use_session

from trivium.auth import Auth
from trivium.auth import JWTConfig
from trivium.auth import MemoryMailer
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.testing import TestClient

NEW = "a brand new long passphrase"
JWT = JWTConfig(keys={"k1": "k" * 40})


def _api_token(client: TestClient, **body: Any) -> str:
    response = client.post("/auth/tokens", json={"name": "ci", **body}, headers=csrf(client))
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def _refresh_token(client: TestClient) -> str:
    use_session(client, None)  # a JWT client, not a browser
    response = client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["refresh_token"])


def _with_token(client: TestClient, token: str) -> int:
    return client.get("/whoami", headers={"Authorization": f"Token {token}"}).json()["id"]


def _refresh(client: TestClient, token: str) -> int:
    cookies = dict(client.cookies)
    use_session(client, None)  # a JWT client, not a browser
    status = client.post("/auth/refresh", json={"refresh_token": token}).status_code
    use_session(client, cookies.get("session"))
    return status


def _reset(client: TestClient, mailer: MemoryMailer, new: str = NEW) -> None:
    client.post("/auth/password/reset", json={"email": "ada@example.com"})
    token = re.search(r"token=(\S+)", mailer.outbox[-1].get_content())
    assert token is not None
    done = client.post(
        "/auth/password/reset/confirm", json={"token": token.group(1), "new_password": new}
    )
    assert done.status_code == 200, done.text


def test_password_change_revokes_api_tokens_refresh_tokens_and_other_sessions(
    db: Database,
) -> None:
    user_id = add_user(db, username="ada", email="ada@example.com")
    app, _ = make_app(db, jwt=JWT)
    with TestClient(app) as client:
        refresh = _refresh_token(client)
        other = login_as(client, "ada")
        login_as(client, "ada")
        key = _api_token(client)
        assert _with_token(client, key) == user_id
        changed = client.post(
            "/auth/password/change",
            json={"old_password": PASSWORD, "new_password": NEW},
            headers=csrf(client),
        )
        assert changed.status_code == 200
        assert client.get("/whoami").json()["id"] == user_id  # this session stays
        assert client.get("/whoami", headers={"Authorization": f"Token {key}"}).status_code == 401
        assert _refresh(client, refresh) == 401
        use_session(client, other)
        assert client.get("/whoami").json()["authenticated"] is False


def test_password_reset_revokes_api_tokens_refresh_tokens_and_sessions(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    app, _ = make_app(db, jwt=JWT, mail=mailer, reset_url="https://app.example/r?token={token}")
    with TestClient(app) as client:
        refresh = _refresh_token(client)
        session = login_as(client, "ada")
        key = _api_token(client)
        use_session(client, None)
        _reset(client, mailer)
        assert client.get("/whoami", headers={"Authorization": f"Token {key}"}).status_code == 401
        assert _refresh(client, refresh) == 401
        use_session(client, session)
        assert client.get("/whoami").json()["authenticated"] is False


def test_revocation_on_password_change_is_configurable_per_kind(db: Database) -> None:
    user_id = add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    app, _ = make_app(
        db,
        jwt=JWT,
        mail=mailer,
        reset_url="https://app.example/r?token={token}",
        revoke_on_password_change={"refresh_tokens"},
    )
    with TestClient(app) as client:
        refresh = _refresh_token(client)
        session = login_as(client, "ada")
        key = _api_token(client)
        use_session(client, None)
        _reset(client, mailer)
        assert _with_token(client, key) == user_id  # API tokens kept
        use_session(client, session)
        assert client.get("/whoami").json()["id"] == user_id  # sessions kept
        assert _refresh(client, refresh) == 401  # refresh tokens revoked


@pytest.mark.parametrize("value", ["sessions", ["sessions", "cookies"]])
def test_unknown_revocation_kinds_are_refused_at_start_up(db: Database, value: Any) -> None:
    with pytest.raises(ConfigurationError, match="revoke_on_password_change") as caught:
        Auth(db, secret_key="s" * 40, revoke_on_password_change=value)
    assert caught.value.code == "auth-revoke"


def test_logout_revokes_the_refresh_token_presented_and_its_rotations(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db, jwt=JWT)
    with TestClient(app) as client:
        kept = _refresh_token(client)
        first = _refresh_token(client)
        rotated = client.post("/auth/refresh", json={"refresh_token": first}).json()
        access = rotated["access_token"]
        out = client.post(
            "/auth/logout",
            json={"refresh_token": first},
            headers={"Authorization": f"Bearer {access}"},
        )
        assert out.status_code == 204
        assert _refresh(client, rotated["refresh_token"]) == 401
        assert _refresh(client, kept) == 200  # another login of the same user is untouched
        for body in ({"refresh_token": "not-a-jwt"}, {}):
            assert client.post("/auth/logout", json=body).status_code == 204
        assert client.post("/auth/logout", json={"refresh_token": 5}).status_code == 422


def _expiring_token(client: TestClient, days: int) -> dict[str, str]:
    login(client, "ada")
    key = _api_token(client, expires_in_days=days, scopes=["a", "b"])
    use_session(client, None)
    return {"Authorization": f"Token {key}"}


def test_an_expiring_token_cannot_mint_a_token_that_never_expires(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        headers = _expiring_token(client, 7)
        forever = client.post("/auth/tokens", json={"name": "x", "scopes": ["a"]}, headers=headers)
        later = client.post(
            "/auth/tokens",
            json={"name": "x", "scopes": ["a"], "expires_in_days": 30},
            headers=headers,
        )
        wider = client.post(
            "/auth/tokens",
            json={"name": "x", "scopes": ["a", "c"], "expires_in_days": 1},
            headers=headers,
        )
        fine = client.post(
            "/auth/tokens",
            json={"name": "x", "scopes": ["b"], "expires_in_days": 6},
            headers=headers,
        )
    assert forever.status_code == 403
    assert "never expires" in forever.json()["detail"]
    assert later.status_code == 403
    assert "outlives" in later.json()["detail"]
    assert wider.status_code == 403
    assert fine.status_code == 201
    assert fine.json()["scopes"] == ["b"]
