"""API tokens: long-lived keys a user creates for scripts, shown once, stored as a hash.

A key reads `trv_<prefix>_<secret>`. The prefix (12 hex digits) is stored in clear and
indexed, so a key is found with one query; the secret is 32 random bytes of which only the
SHA-256 digest is stored, compared with `hmac.compare_digest`. A fast hash is right here:
the secret is random and long, so there is nothing to brute-force, unlike a password.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from trivium.auth._models import APIToken
from trivium.db import utcnow

__all__ = [
    "TOKEN_PREFIX",
    "create_token",
    "find_token",
    "hash_secret",
    "list_tokens",
    "looks_like_api_token",
    "revoke_token",
    "revoke_user_tokens",
]

TOKEN_PREFIX = "trv_"  # noqa: S105 - a marker, not a secret
"""What every API token starts with (lets secret scanners and the middleware spot them)."""
_PREFIX_BYTES = 6
_HEX_DIGITS = "0123456789abcdef"


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex digest stored for a token's secret part."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_api_token(credential: str) -> bool:
    """Return whether `credential` has the shape of a trivium API token."""
    return credential.startswith(TOKEN_PREFIX)


def _split(credential: str) -> tuple[str, str] | None:
    if not looks_like_api_token(credential):
        return None
    prefix, sep, secret = credential[len(TOKEN_PREFIX) :].partition("_")
    if not sep or len(prefix) != _PREFIX_BYTES * 2 or not secret or len(secret) > 128:
        return None
    # The prefix is queried: only what `create_token` makes (never a NUL, which PostgreSQL refuses).
    if prefix.strip(_HEX_DIGITS):
        return None
    return prefix, secret


async def create_token(
    session: AsyncSession,
    user_id: int,
    name: str,
    *,
    scopes: Sequence[str] = (),
    expires_in: datetime.timedelta | None = None,
) -> tuple[APIToken, str]:
    """Create a token for the user `user_id`; return the row and the key to show once.

    The row is added to `session` and flushed; the caller's transaction commits it.
    """
    prefix = secrets.token_hex(_PREFIX_BYTES)
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    token = APIToken(
        user_id=user_id,
        name=name,
        prefix=prefix,
        key_hash=hash_secret(secret),
        scopes=sorted(set(scopes)),
        created_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
    )
    session.add(token)
    await session.flush()
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


async def find_token(session: AsyncSession, credential: str) -> APIToken | None:
    """Return the live token matching `credential` and mark it used, or `None`.

    `None` covers malformed keys, unknown prefixes, wrong secrets, and expired or revoked
    tokens alike. `last_used_at` is updated in `session` (the caller commits).
    """
    parts = _split(credential)
    if parts is None:
        return None
    prefix, secret = parts
    digest = hash_secret(secret)
    rows = await session.scalars(select(APIToken).where(APIToken.prefix == prefix))
    now = utcnow()
    for token in rows:
        if not hmac.compare_digest(digest, token.key_hash):
            continue
        if token.revoked_at is not None:
            return None
        if token.expires_at is not None and token.expires_at <= now:
            return None
        token.last_used_at = now
        return token
    return None


async def list_tokens(session: AsyncSession, user_id: int) -> list[APIToken]:
    """Return the user's tokens that are not revoked, newest first."""
    rows = await session.scalars(
        select(APIToken)
        .where(APIToken.user_id == user_id, APIToken.revoked_at.is_(None))
        .order_by(APIToken.created_at.desc(), APIToken.id.desc())
    )
    return list(rows)


async def revoke_token(session: AsyncSession, user_id: int, token_id: int) -> bool:
    """Revoke the user's token `token_id`; return whether one was revoked."""
    token = await session.get(APIToken, token_id)
    if token is None or token.user_id != user_id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    await session.flush()
    return True


async def revoke_user_tokens(session: AsyncSession, user_id: int) -> None:
    """Revoke every live token of the user (after a password change or reset)."""
    await session.execute(
        update(APIToken)
        .where(APIToken.user_id == user_id, APIToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
