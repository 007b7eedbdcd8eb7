"""What a token may do to the account: scoped tokens stay in their scopes, none outlives its maker."""

from __future__ import annotations

from typing import Any

from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import make_app
from tests.auth.authapp import use_session

from trivium.auth import JWTConfig
from trivium.db import Database
from trivium.testing import TestClient

JWT = JWTConfig(keys={"k1": "j" * 40})


def _token(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/auth/tokens", json={"name": "t", **body}, headers=csrf(client))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _access_token(client: TestClient, scope: str = "") -> str:
    form = {"username": "ada", "password": PASSWORD, "scope": scope}
    response = client.post("/auth/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_a_jwt_cannot_mint_a_token_that_never_expires(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db, jwt=JWT)
    with TestClient(app) as client:
        access = _access_token(client)  # lives 15 minutes
        forever = client.post("/auth/tokens", json={"name": "forever"}, headers=_bearer(access))
        a_day = client.post(
            "/auth/tokens", json={"name": "day", "expires_in_days": 1}, headers=_bearer(access)
        )
    assert forever.status_code == 403
    assert forever.json() == {
        "detail": "A token that expires cannot create a token that never expires"
    }
    assert a_day.status_code == 403
    assert a_day.json() == {"detail": "A token cannot create a token that outlives it"}


def test_a_jwt_living_long_enough_mints_a_token_expiring_before_it(db: Database) -> None:
    import datetime

    add_user(db, username="ada")
    app, _ = make_app(
        db, jwt=JWTConfig(keys={"k1": "j" * 40}, access_ttl=datetime.timedelta(days=2))
    )
    with TestClient(app) as client:
        access = _access_token(client)
        response = client.post(
            "/auth/tokens", json={"name": "day", "expires_in_days": 1}, headers=_bearer(access)
        )
    assert response.status_code == 201, response.text


def test_a_scoped_token_cannot_revoke_another_token(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        deploy = _token(client, scopes=["items:write"])
        reader = _token(client, scopes=["items:read"])
        use_session(client, None)
        response = client.delete(f"/auth/tokens/{deploy['id']}", headers=_bearer(reader["token"]))
        assert response.status_code == 403
        assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'
        still = client.post("/items", headers=_bearer(deploy["token"]))
        assert still.status_code == 200


def test_a_scoped_token_may_revoke_itself(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        reader = _token(client, scopes=["items:read"])
        use_session(client, None)
        headers = _bearer(reader["token"])
        assert client.delete(f"/auth/tokens/{reader['id']}", headers=headers).status_code == 204
        assert client.get("/auth/me", headers=headers).status_code == 401


def test_a_scoped_token_cannot_manage_the_account(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        headers = _bearer(_token(client, scopes=["items:read"])["token"])
        use_session(client, None)
        renamed = client.patch("/auth/me", json={"username": "mallory"}, headers=headers)
        listed = client.get("/auth/tokens", headers=headers)
        changed = client.post(
            "/auth/password/change",
            json={"old_password": PASSWORD, "new_password": "another long passphrase"},
            headers=headers,
        )
        me = client.get("/auth/me", headers=headers)  # who am I? is no management
    assert [renamed.status_code, listed.status_code, changed.status_code] == [403, 403, 403]
    assert me.status_code == 200
    assert me.json()["username"] == "ada"


def test_a_scoped_jwt_cannot_manage_the_account(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db, jwt=JWT)
    with TestClient(app) as client:
        headers = _bearer(_access_token(client, scope="items:read"))
        response = client.patch("/auth/me", json={"username": "mallory"}, headers=headers)
    assert response.status_code == 403


def test_a_scoped_token_cannot_mint_a_token_without_scopes(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        reader = _token(client, scopes=["items:read"])
        use_session(client, None)
        response = client.post(
            "/auth/tokens",
            json={"name": "every right", "expires_in_days": 1},
            headers=_bearer(reader["token"]),
        )
    assert response.status_code == 403


def test_a_token_without_scopes_manages_the_account(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        full = _token(client)
        other = _token(client, scopes=["items:read"])
        use_session(client, None)
        headers = _bearer(full["token"])
        assert len(client.get("/auth/tokens", headers=headers).json()) == 2
        renamed = client.patch("/auth/me", json={"username": "ada2"}, headers=headers)
        assert renamed.json()["username"] == "ada2"
        assert client.delete(f"/auth/tokens/{other['id']}", headers=headers).status_code == 204
