"""A small app with every auth guard, shared by the auth battery's HTTP tests."""

from __future__ import annotations

import time
import uuid
from typing import Annotated
from typing import Any

import anyio
import httpx
import jwt

from trivium import App
from trivium import Depends
from trivium import Request
from trivium.auth import Auth
from trivium.auth import CurrentUser
from trivium.auth import Group
from trivium.auth import create_user
from trivium.auth import ensure_permissions
from trivium.auth import require_permission
from trivium.auth import require_scopes
from trivium.auth import require_staff
from trivium.auth import require_superuser
from trivium.db import Database
from trivium.stores import MemoryStore

SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PASSWORD = "correct horse battery staple"


def make_app(db: Database, **options: Any) -> tuple[App, Auth]:
    app = App()
    db.init_app(app)
    options.setdefault("session_store", MemoryStore())
    options.setdefault("site_url", "http://testserver")  # where email links point
    auth = Auth(db, secret_key=SECRET, **options)
    auth.init_app(app)

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, Any]:
        user = request.user
        method = request.auth.method if request.auth else None
        return {"authenticated": user.is_authenticated, "id": user.id, "method": method}

    @app.post("/write")
    async def write(user: CurrentUser) -> dict[str, Any]:
        return {"wrote": user.id}

    @app.get("/staff")
    async def staff(user: Annotated[Any, Depends(require_staff)]) -> int:
        return int(user.id)

    @app.get("/admin")
    async def admin(user: Annotated[Any, Depends(require_superuser)]) -> int:
        return int(user.id)

    @app.get("/products", dependencies=[Depends(require_permission("shop.change_product"))])
    async def products() -> str:
        return "ok"

    @app.post("/items", dependencies=[Depends(require_scopes("items:write"))])
    async def items() -> str:
        return "created"

    return app, auth


async def _add_user(
    db: Database, fields: dict[str, Any], perms: list[str], group: str | None
) -> int:
    async with db.sessionmaker() as session:
        password = fields.pop("password", PASSWORD)
        user = await create_user(session, password=password, **fields)
        if perms:
            permissions = await ensure_permissions(session, custom=[(p, p) for p in perms])
            if group:
                team = Group(name=group, permissions=permissions)
                session.add(team)
                (await user.awaitable_attrs.groups).append(team)
            else:
                (await user.awaitable_attrs.user_permissions).extend(permissions)
        await session.commit()
        user_id: int = user.id
    await db.dispose()
    return user_id


def add_user(
    db: Database, *, perms: list[str] | None = None, group: str | None = None, **fields: Any
) -> int:
    """Create a user (password `PASSWORD` unless given) and return their id."""
    return anyio.run(_add_user, db, dict(fields), list(perms or []), group)


def login(client: httpx.Client, identifier: str, password: str = PASSWORD) -> httpx.Response:
    """Log in; with a session cookie already set the request carries a CSRF token."""
    headers = csrf(client) if "session" in client.cookies else {}
    return client.post(
        "/auth/login", json={"identifier": identifier, "password": password}, headers=headers
    )


def csrf(client: httpx.Client) -> dict[str, str]:
    """Headers carrying a CSRF token for the client's session."""
    token = client.get("/auth/csrf").json()["csrf_token"]
    return {"X-CSRF-Token": token}


def use_session(client: httpx.Client, cookie: str | None) -> None:
    """Switch the client to another browser: the session cookie `cookie` (or none).

    One client per test keeps one event loop, which engines of server databases need.
    """
    client.cookies.clear()
    if cookie is not None:
        client.cookies.set("session", cookie)


def login_as(client: httpx.Client, identifier: str, password: str = PASSWORD) -> str:
    """Log in as a fresh browser and return the session cookie."""
    use_session(client, None)
    assert login(client, identifier, password).status_code == 200
    return client.cookies["session"]


def external_token(
    user_id: int,
    *,
    key: str,
    issuer: str,
    audience: str,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """An RFC 9068 access token as Auth0, Keycloak or Okta issue it (no `type` claim),
    signed with `key` (HS256, key id `k1`); `claims` and `header` add or replace fields."""
    now = int(time.time())
    payload = {
        "iss": issuer,
        "sub": str(user_id),
        "aud": audience,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "scope": "",
        "client_id": "agent",
        **claims,
    }
    return jwt.encode(payload, key, algorithm="HS256", headers={"kid": "k1", **(header or {})})
