"""Access tokens of an external authorization server (no trivium `type` claim)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import external_token
from tests.auth.authapp import make_app

from trivium.auth import JWTConfig
from trivium.db import Database
from trivium.testing import TestClient

KEY = "k" * 48
ISSUER = "https://login.example.com"
AUDIENCE = "https://api.example.com"


def _external(user_id: int, header: dict[str, Any] | None = None, **claims: Any) -> str:
    claims.setdefault("scope", "notes:read")
    return external_token(
        user_id, key=KEY, issuer=ISSUER, audience=AUDIENCE, header=header, **claims
    )


def _whoami(client: TestClient, token: str) -> Any:
    response = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json() if response.status_code == 200 else None


@pytest.mark.parametrize("typ", ["JWT", "at+jwt", "application/at+jwt", None])
def test_an_authorization_servers_access_token_is_accepted(db: Database, typ: str | None) -> None:
    user_id = add_user(db, username="ada")
    app, _ = make_app(db, jwt=JWTConfig(keys={"k1": KEY}, issuer=ISSUER, audience=AUDIENCE))
    header = {"typ": typ} if typ else {}
    with TestClient(app) as client:
        status, body = _whoami(client, _external(user_id, header))
    assert status == 200
    assert body == {"authenticated": True, "id": user_id, "method": "jwt"}


def test_an_external_token_of_another_kind_is_refused(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, _ = make_app(db, jwt=JWTConfig(keys={"k1": KEY}, issuer=ISSUER, audience=AUDIENCE))
    with TestClient(app) as client:
        assert _whoami(client, _external(user_id, {"typ": "logout+jwt"}))[0] == 401
        assert _whoami(client, _external(user_id, type="refresh"))[0] == 401
        assert _whoami(client, _external(user_id, type="id"))[0] == 401


def test_a_refresh_token_is_still_no_access_token_with_an_issuer(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db, jwt=JWTConfig(keys={"k1": KEY}, issuer=ISSUER, audience=AUDIENCE))
    with TestClient(app) as client:
        response = client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
        pair = response.json()
        assert _whoami(client, pair["access_token"])[0] == 200
        assert _whoami(client, pair["refresh_token"])[0] == 401


def test_a_typeless_token_is_no_refresh_token(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, _ = make_app(db, jwt=JWTConfig(keys={"k1": KEY}, issuer=ISSUER, audience=AUDIENCE))
    with TestClient(app) as client:
        response = client.post("/auth/refresh", json={"refresh_token": _external(user_id)})
    assert response.status_code == 401


def test_without_an_issuer_a_token_needs_triviums_type_claim(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, _ = make_app(db, jwt=JWTConfig(keys={"k1": KEY}, audience=AUDIENCE))
    with TestClient(app) as client:
        assert _whoami(client, _external(user_id))[0] == 401
        assert _whoami(client, _external(user_id, type="access"))[0] == 200
