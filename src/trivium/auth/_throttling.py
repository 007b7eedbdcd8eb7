"""Login throttling: limit password attempts per identifier and per client address.

Counting every attempt (not only failures) keeps the check before the password hash, so a
flood of guesses costs the server a store increment each, not an Argon2 computation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trivium.errors import HTTPException

if TYPE_CHECKING:
    from trivium.auth._auth import Auth
    from trivium.http import Request

__all__ = ["reset_login_throttle", "throttle_login"]

_PREFIX = "auth:login:"


def _identifier_key(identifier: str) -> str:
    return f"id:{identifier.strip().lower()[:254]}"


async def reset_login_throttle(auth: Auth, identifier: str) -> None:
    """Forget the login attempts counted for `identifier` in the current window."""
    limits = auth.login_throttle
    if limits is None or auth.throttle_store is None:
        return
    from trivium.stores import Throttle

    limit, window = limits.per_identifier
    await Throttle(auth.throttle_store, limit, window, prefix=_PREFIX).reset(
        _identifier_key(identifier)
    )


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
        (limits.per_identifier, _identifier_key(identifier)),
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
