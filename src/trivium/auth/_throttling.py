"""Login throttling: limit password attempts per account and per client address.

Counting every attempt (not only failures) keeps the check before the password hash, so a
flood of guesses costs the server a store increment each, not an Argon2 computation.

The counter belongs to the account, not to the spelling: the user name and the email of
one user (in any case or Unicode form) share it. An identifier that matches no account
is counted under a digest of its normalised form, so unknown names are limited the same
way and every key has the same short length, whatever a client sends (a store keeps
keys of at most 255 characters, and PostgreSQL refuses a NUL in one).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from trivium.auth._identity import normalize_identifier
from trivium.errors import HTTPException

if TYPE_CHECKING:
    from trivium.auth._auth import Auth
    from trivium.http import Request

__all__ = ["account_key", "reset_login_throttle", "throttle_login"]

_PREFIX = "auth:login:"


async def account_key(auth: Auth, identifier: str) -> str:
    """Return the throttle key of the account `identifier` names (or of the name itself)."""
    from trivium.auth._models import get_user_by_identifier

    async with auth.db.sessionmaker() as session:
        user = await get_user_by_identifier(session, identifier, model=auth.user_model)
    if user is not None:
        return f"user:{user.id}"
    normalized = normalize_identifier(identifier).encode("utf-8", "surrogatepass")
    return f"id:{hashlib.sha256(normalized).hexdigest()}"


async def reset_login_throttle(auth: Auth, identifier: str) -> None:
    """Forget the login attempts counted for the account `identifier` names."""
    limits = auth.login_throttle
    if limits is None or auth.throttle_store is None:
        return
    from trivium.stores import Throttle

    limit, window = limits.per_identifier
    key = await account_key(auth, identifier)
    await Throttle(auth.throttle_store, limit, window, prefix=_PREFIX).reset(key)


async def throttle_login(auth: Auth, request: Request, identifier: str) -> None:
    """Count one login attempt; raise 429 with `Retry-After` when over a limit."""
    limits = auth.login_throttle
    if limits is None:
        return
    from trivium.stores import MemoryStore
    from trivium.stores import Throttle

    if auth.throttle_store is None:
        auth.throttle_store = MemoryStore()
    store = auth.throttle_store
    client = request.client
    checks = [
        (limits.per_identifier, await account_key(auth, identifier)),
        (limits.per_ip, f"ip:{client.host if client else '-'}"),
    ]
    for (limit, window), key in checks:
        result = await Throttle(store, limit, window, prefix=_PREFIX).hit(key)
        if not result.allowed:
            raise HTTPException(
                429,
                "Too many login attempts; try again later",
                headers={"Retry-After": result.retry_after_header},
            )
