"""Writes made over HTTP record the request's user (or API token) and request id."""

from __future__ import annotations

from typing import Any

import anyio
import jwt
from sqlalchemy import select
from tests.audit.models import Book
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import make_app

from trivium import App
from trivium import Depends
from trivium.audit import Audit
from trivium.audit import AuditEntry
from trivium.auth import APIToken
from trivium.auth import JWTConfig
from trivium.auth import User
from trivium.auth import require_user
from trivium.db import Database
from trivium.db import crud_router
from trivium.middleware import RequestIDMiddleware
from trivium.testing import TestClient


def audited_app(db: Database, *, request_ids: bool = False, **options: Any) -> tuple[App, Audit]:
    app, _ = make_app(db, **options)
    audit = Audit(db)
    app.install(audit)
    guard = [Depends(require_user)]
    app.include_router(crud_router(Book, db, prefix="/books", dependencies=guard))
    app.include_router(crud_router(Book, db, prefix="/open/books"))
    if request_ids:
        app.add_middleware(RequestIDMiddleware)
    return app, audit


def stored(db: Database, model: type = Book) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        async with db.sessionmaker() as session:
            query = select(AuditEntry).where(AuditEntry.model == model.__tablename__)
            rows = list((await session.scalars(query.order_by(AuditEntry.id))).all())
        await db.dispose()
        return rows

    return anyio.run(read)


def test_crud_router_writes_record_the_logged_in_user_and_request(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, audit = audited_app(db, request_ids=True)
    with TestClient(app) as client:
        assert login(client, "ada").status_code == 200
        created = client.post("/books", json={"title": "Dune"}, headers=csrf(client))
        assert created.status_code == 201, created.text
        book: dict[str, Any] = created.json()
        patched = client.patch(f"/books/{book['id']}", json={"pages": 9}, headers=csrf(client))
        assert patched.status_code == 200
        deleted = client.delete(f"/books/{book['id']}", headers=csrf(client))
        assert deleted.status_code == 204
    create, update, delete = stored(db)
    assert [e.action for e in (create, update, delete)] == ["create", "update", "delete"]
    assert {(e.actor_kind, e.actor_id, e.token_id) for e in (create, update, delete)} == {
        ("user", str(user_id), None)
    }
    assert create.request_id == created.headers["x-request-id"]
    assert update.request_id == patched.headers["x-request-id"]
    assert create.request_id != update.request_id
    assert update.changes == {"pages": [1, 9]}
    assert delete.before["title"] == "Dune"
    audit.close()


def test_an_api_token_write_records_the_token(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, audit = audited_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        token = client.post("/auth/tokens", json={"name": "ci"}, headers=csrf(client)).json()
        client.cookies.clear()
        response = client.post(
            "/books", json={"title": "Token"}, headers={"Authorization": f"Token {token['token']}"}
        )
        assert response.status_code == 201, response.text
    (entry,) = stored(db)
    assert (entry.actor_kind, entry.actor_id, entry.token_id) == (
        "token",
        str(user_id),
        str(token["id"]),
    )
    assert entry.request_id  # an id of its own without RequestIDMiddleware
    # the token's `last_used_at` and the login's `last_login` bookkeeping is untracked
    assert [e.action for e in stored(db, APIToken)] == ["create"]
    assert [e.action for e in stored(db, User)] == []
    audit.close()


def test_a_jwt_write_records_the_user_and_the_token_id(db: Database) -> None:
    user_id = add_user(db, username="ada")
    config = JWTConfig(keys={"k1": "k" * 40}, issuer="https://trivium.test", audience="api")
    app, audit = audited_app(db, jwt=config)
    with TestClient(app) as client:
        form = {"username": "ada", "password": PASSWORD}
        access = client.post("/auth/token", data=form).json()["access_token"]
        response = client.post(
            "/books", json={"title": "JWT"}, headers={"Authorization": f"Bearer {access}"}
        )
        assert response.status_code == 201, response.text
    (entry,) = stored(db)
    jti = jwt.decode(access, options={"verify_signature": False})["jti"]
    assert (entry.actor_kind, entry.actor_id, entry.token_id) == ("jwt", str(user_id), jti)
    audit.close()


def test_an_anonymous_write_is_recorded_as_anonymous(db: Database) -> None:
    app, audit = audited_app(db)
    with TestClient(app) as client:
        response = client.post("/open/books", json={"title": "Open"}, headers=csrf(client))
        assert response.status_code == 201, response.text
    (entry,) = stored(db)
    assert (entry.actor_kind, entry.actor_id) == ("anonymous", None)
    audit.close()


def test_a_refused_write_leaves_no_entry(db: Database) -> None:
    app, audit = audited_app(db)
    with TestClient(app) as client:
        assert client.post("/books", json={"title": "x"}, headers=csrf(client)).status_code == 401
        duplicate = client.post("/open/books", json={"title": "y" * 51}, headers=csrf(client))
        assert duplicate.status_code == 422
    assert stored(db) == []
    audit.close()
