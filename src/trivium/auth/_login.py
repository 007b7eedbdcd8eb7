"""Login and logout: checking a password and binding a user to the request's session.

`Auth.authenticate`, `Auth.login`, `Auth.logout` and `Auth.update_session_hash` call these;
the session keeps the user's id and an HMAC of their password hash (`Auth.session_hash`),
so a password change ends the user's other sessions whatever the session store.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import update

from trivium.auth._anonymous import ANONYMOUS
from trivium.auth._anonymous import AuthInfo
from trivium.auth._authn import SESSION_HASH_KEY
from trivium.auth._authn import SESSION_USER_KEY
from trivium.auth._models import get_user_by_identifier
from trivium.auth._passwords import dummy_verify
from trivium.auth._passwords import verify_password
from trivium.db import utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.auth._auth import Auth
    from trivium.http import Request

__all__ = [
    "authenticate",
    "login",
    "logout",
    "matching_session_hash",
    "maybe_await",
    "session_hash",
    "update_session_hash",
]


def session_hash(key: bytes, user: Any, with_password: bool) -> str:
    """Return the HMAC (with `key`) binding a session to `user` (and their password hash)."""
    password = user.password if with_password else ""
    data = f"trivium.auth.session:{user.id}:{password}".encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def matching_session_hash(
    keys: Sequence[bytes], user: Any, stored: object, with_password: bool
) -> str | None:
    """Return `user`'s hash under `keys[0]` if `stored` is theirs under any of `keys`."""
    if not isinstance(stored, str):
        return None
    current = session_hash(keys[0], user, with_password)
    for key in keys:
        candidate = current if key is keys[0] else session_hash(key, user, with_password)
        if hmac.compare_digest(stored.encode(), candidate.encode()):
            return current
    return None


async def authenticate(auth: Auth, session: AsyncSession, identifier: str, password: str) -> Any:
    """Return the active user with this identifier and password, else `None`."""
    user = await get_user_by_identifier(session, identifier, model=auth.user_model)
    if user is None:
        await dummy_verify()
        return None
    matches, new_hash = await verify_password(password, user.password)
    if not matches or not user.is_active:
        return None
    if new_hash is not None:
        user.password = new_hash
    return user


async def login(auth: Auth, request: Request, user: Any, session: AsyncSession | None) -> None:
    """Bind `user` to the request's session under a new id (see `Auth.login`)."""
    store = request.session
    previous = store.get(SESSION_USER_KEY)
    if previous is not None and (
        previous != user.id or auth.check_session_hash(user, store.get(SESSION_HASH_KEY)) is None
    ):
        store.clear()
    await maybe_await(store.rotate())  # type: ignore[attr-defined]
    from trivium.csrf import rotate_csrf_secret

    rotate_csrf_secret(store)
    store[SESSION_USER_KEY] = user.id
    store[SESSION_HASH_KEY] = auth.session_hash(user)
    now = utcnow()
    statement = update(auth.user_model).where(auth.user_model.id == user.id)
    if session is not None:
        await session.execute(statement.values(last_login=now))
    else:
        async with auth.db.sessionmaker() as own, own.begin():
            await own.execute(statement.values(last_login=now))
    user.last_login = now
    request.scope["user"] = user
    request.scope["auth"] = AuthInfo("session")


async def logout(auth: Auth, request: Request, refresh_token: str | None) -> None:
    """Empty the request's session and revoke `refresh_token`'s family (see `Auth.logout`)."""
    if "session" in request.scope:
        await maybe_await(request.session.flush())  # type: ignore[attr-defined]
    if refresh_token is not None and auth.jwt is not None:
        async with auth.transaction() as session:
            await auth.jwt.revoke(session, refresh_token)
    request.scope["user"] = ANONYMOUS
    request.scope["auth"] = None


async def update_session_hash(auth: Auth, request: Request, user: Any) -> None:
    """Keep this session logged in after `user`'s password changed (others log out)."""
    store = request.session
    await maybe_await(store.rotate())  # type: ignore[attr-defined]
    store[SESSION_USER_KEY] = user.id
    store[SESSION_HASH_KEY] = auth.session_hash(user)


async def maybe_await(value: Any) -> Any:
    """Return `value`, awaited first when it is awaitable (sync and async stores)."""
    if inspect.isawaitable(value):
        return await value
    return value
