"""API tokens: shown once, stored hashed, scoped, expiring and revocable."""

from __future__ import annotations

import datetime

import anyio
from sqlalchemy import select
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import make_app
from tests.auth.authapp import use_session

from trivium.auth import APIToken
from trivium.db import Database
from trivium.testing import TestClient


def _token(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post("/auth/tokens", json={"name": "ci", **body}, headers=csrf(client))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _stored(db: Database) -> list[APIToken]:
    async with db.sessionmaker() as session:
        rows = list(await session.scalars(select(APIToken)))
    await db.dispose()
    return rows


def test_token_is_shown_once_and_stored_as_a_hash(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        created = _token(client, scopes=["items:write"])
        listed = client.get("/auth/tokens").json()
    key = str(created["token"])
    assert key.startswith(f"trv_{created['prefix']}_")
    assert listed == [{k: v for k, v in created.items() if k != "token"}]
    [row] = anyio.run(_stored, db)
    assert row.user_id == user_id
    assert key.split("_", 2)[2] not in row.key_hash
    assert len(row.key_hash) == 64


def test_token_authenticates_with_token_or_bearer_and_records_use(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        key = _token(client)["token"]
        use_session(client, None)
        for scheme in ("Token", "Bearer"):
            response = client.get("/whoami", headers={"Authorization": f"{scheme} {key}"})
            assert response.json() == {"authenticated": True, "id": user_id, "method": "token"}
    [row] = anyio.run(_stored, db)
    assert row.last_used_at is not None


def test_wrong_malformed_and_revoked_tokens_get_401(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        created = _token(client)
        key = str(created["token"])
        assert (
            client.delete(f"/auth/tokens/{created['id']}", headers=csrf(client)).status_code == 204
        )
        assert (
            client.delete(f"/auth/tokens/{created['id']}", headers=csrf(client)).status_code == 404
        )
        assert client.get("/auth/tokens").json() == []
        use_session(client, None)
        for credential in (key, key[:-2] + "xx", "trv_nope", "trv_" + "a" * 12 + "_" + "b" * 300):
            response = client.get("/whoami", headers={"Authorization": f"Token {credential}"})
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Token"
            assert response.json() == {"detail": "Invalid, expired or revoked API token"}


async def _expire(db: Database) -> None:
    async with db.sessionmaker() as session:
        for row in await session.scalars(select(APIToken)):
            row.expires_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
        await session.commit()
    await db.dispose()


def test_expired_token_gets_401(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        key = _token(client, expires_in_days=1)["token"]
        use_session(client, None)
        assert client.get("/auth/me", headers={"Authorization": f"Token {key}"}).status_code == 200
    anyio.run(_expire, db)
    with TestClient(app) as client:
        assert client.get("/auth/me", headers={"Authorization": f"Token {key}"}).status_code == 401


def test_scopes_limit_what_a_token_may_do(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        assert (
            client.post("/items", headers=csrf(client)).status_code == 200
        )  # session: full rights
        reader = _token(client, scopes=["items:read"])["token"]
        writer = _token(client, scopes=["items:write"])["token"]
        use_session(client, None)
        refused = client.post("/items", headers={"Authorization": f"Token {reader}"})
        assert refused.status_code == 403
        assert "insufficient_scope" in refused.headers["www-authenticate"]
        assert (
            client.post("/items", headers={"Authorization": f"Token {writer}"}).status_code == 200
        )
        assert client.post("/items").status_code == 401


def test_token_cannot_mint_a_token_with_more_scopes(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        reader = _token(client, scopes=["items:read"])["token"]
        use_session(client, None)
        headers = {"Authorization": f"Token {reader}"}
        wider = client.post(
            "/auth/tokens", json={"name": "x", "scopes": ["items:write"]}, headers=headers
        )
        same = client.post(
            "/auth/tokens", json={"name": "x", "scopes": ["items:read"]}, headers=headers
        )
    assert wider.status_code == 403
    assert same.status_code == 201
