"""JWT access and refresh tokens (PyJWT), with key rotation and refresh-token reuse detection.

Access tokens are short-lived and checked by signature alone. Refresh tokens are also
recorded in the `auth_refresh_token` table: each refresh replaces the token with a new one
of the same *family*, and presenting a token that was already replaced (a sign it was
stolen) revokes the whole family, logging out both the thief and the victim.

Decoding is strict: the algorithm list is the configured one only (so `alg=none` and
HS256-signed-with-the-public-key forgeries fail), `exp`, `iat` and `sub` are required,
`iss`/`aud` are checked when configured, and the key is picked by the `kid` header among
the configured keys (old keys keep verifying until removed, new tokens use `active_kid`).
trivium's tokens carry a `type` claim (`access`, `refresh`) that must match what is
expected; an access token of an external authorization server has none, and is taken as
one when an `issuer` is configured (a resource-server setup).
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from trivium.auth._models import RefreshToken
from trivium.db import utcnow
from trivium.errors import ConfigurationError

__all__ = ["InvalidTokenError", "JWTConfig", "TokenPair"]

_HMAC = ("HS256", "HS384", "HS512")
_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
_MIN_HMAC_BYTES = 32
# The `typ` headers an access token may have (besides none): the generic one, RFC 9068's.
_ACCESS_TYPS = frozenset({"jwt", "at+jwt", "application/at+jwt"})


class InvalidTokenError(Exception):
    """A JWT is malformed, forged, expired, revoked or of the wrong type."""


@dataclasses.dataclass(frozen=True, slots=True)
class TokenPair:
    """What the token endpoints return."""

    access_token: str
    """The short-lived access token."""
    refresh_token: str
    """The refresh token (single use: exchange it at the refresh endpoint)."""
    expires_in: int
    """Seconds until the access token expires."""

    def to_dict(self) -> dict[str, Any]:
        """Return the OAuth2 token response body."""
        return {
            "access_token": self.access_token,
            "token_type": "bearer",
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
        }


@dataclasses.dataclass(frozen=True)
class JWTConfig:
    """How JWTs are signed and checked.

    Args:
        keys: signing keys by key id (`kid`): secrets of at least 32 bytes for HS*, PEM
            private keys for RS*/ES*/EdDSA (a PEM public key only verifies: use it for a
            retired key). Remove a kid to stop accepting tokens signed with it.
        active_kid: the kid new tokens are signed with (default: the only key).
        algorithm: the one algorithm accepted (HS256, RS256, ES256, EdDSA, ...).
        access_ttl: lifetime of access tokens, a positive `datetime.timedelta`.
        refresh_ttl: lifetime of refresh tokens, a positive `datetime.timedelta`.
        issuer: set as `iss` and required when decoding; with it, a token without
            trivium's `type` claim (an authorization server's) is an access token.
        audience: set as `aud` and required when decoding.
        leeway: clock skew tolerated on `exp`/`iat`, in seconds.

    Raises:
        ConfigurationError: no keys, an unknown active kid or algorithm, a short HMAC
            secret, a key that does not load, a lifetime that is not a positive
            `timedelta` (a bare `900` could mean seconds or minutes) or a negative
            leeway (`auth-jwt-config`).
    """

    keys: Mapping[str, str | bytes]
    active_kid: str | None = None
    algorithm: str = "HS256"
    access_ttl: datetime.timedelta = datetime.timedelta(minutes=15)
    refresh_ttl: datetime.timedelta = datetime.timedelta(days=14)
    issuer: str | None = None
    audience: str | None = None
    leeway: float = 0
    _signing: dict[str, Any] = dataclasses.field(init=False, repr=False, compare=False)
    _verifying: dict[str, Any] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("access_ttl", "refresh_ttl"):
            _check_ttl(name, getattr(self, name))
        leeway: object = self.leeway
        seconds = leeway.total_seconds() if isinstance(leeway, datetime.timedelta) else leeway
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
            raise _config_error(f"JWTConfig(leeway={leeway!r}): give seconds >= 0 (default 0)")
        if not isinstance(self.keys, Mapping) or not self.keys:
            raise _config_error("JWTConfig(keys=...) needs at least one {kid: key}")
        if self.active_kid is None:
            if len(self.keys) != 1:
                raise _config_error("several JWT keys: name the signing one with active_kid=")
            object.__setattr__(self, "active_kid", next(iter(self.keys)))
        if self.active_kid not in self.keys:
            raise _config_error(f"active_kid {self.active_kid!r} is not one of the keys")
        if self.algorithm not in _HMAC + _ASYMMETRIC:
            raise _config_error(f"unsupported JWT algorithm {self.algorithm!r}")
        signing: dict[str, Any] = {}
        verifying: dict[str, Any] = {}
        for kid, key in self.keys.items():
            signing[kid], verifying[kid] = _load_key(self.algorithm, kid, key)
        if signing[self.active_kid] is None:  # type: ignore[index]
            raise _config_error(f"the active key {self.active_kid!r} is a public key")
        object.__setattr__(self, "_signing", signing)
        object.__setattr__(self, "_verifying", verifying)

    # Encoding -------------------------------------------------------------------------

    def encode(self, claims: Mapping[str, Any], ttl: datetime.timedelta) -> str:
        """Sign `claims` plus `iat`, `exp`, `jti` (and `iss`/`aud`) with the active key."""
        now = utcnow()
        payload: dict[str, Any] = {"jti": uuid.uuid4().hex, **claims, "iat": now, "exp": now + ttl}
        if self.issuer is not None:
            payload["iss"] = self.issuer
        if self.audience is not None:
            payload["aud"] = self.audience
        kid = self.active_kid
        assert kid is not None  # set in __post_init__
        return jwt.encode(
            payload, self._signing[kid], algorithm=self.algorithm, headers={"kid": kid}
        )

    def access_token(self, user_id: int, scopes: Sequence[str] = ()) -> str:
        """Return a signed access token for the user `user_id`."""
        claims: dict[str, Any] = {"sub": str(user_id), "type": "access"}
        if scopes:
            claims["scope"] = " ".join(sorted(set(scopes)))
        return self.encode(claims, self.access_ttl)

    # Decoding -------------------------------------------------------------------------

    def decode(self, token: str, expected_type: str = "access") -> dict[str, Any]:
        """Verify `token` and return its claims.

        Raises:
            InvalidTokenError: anything is wrong with it (never says what, to the client).
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("malformed token") from exc
        kid = header.get("kid")
        key = self._verifying.get(kid) if isinstance(kid, str) else None
        if key is None or header.get("alg") != self.algorithm:
            raise InvalidTokenError("unknown key or algorithm")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        if self.audience is None and "aud" in claims:
            raise InvalidTokenError("unexpected audience")
        if not _of_type(header, claims, expected_type, external=self.issuer is not None):
            raise InvalidTokenError(f"not an {expected_type} token")
        return claims

    # Refresh tokens -------------------------------------------------------------------

    async def issue(
        self,
        session: AsyncSession,
        user_id: int,
        scopes: Sequence[str] = (),
        family: str | None = None,
    ) -> TokenPair:
        """Return a new access + refresh pair, recording the refresh token in `session`."""
        return await self._issue(session, user_id, scopes, family, uuid.uuid4().hex)

    async def _issue(
        self,
        session: AsyncSession,
        user_id: int,
        scopes: Sequence[str],
        family: str | None,
        jti: str,
    ) -> TokenPair:
        family = family or uuid.uuid4().hex
        claims: dict[str, Any] = {"sub": str(user_id), "type": "refresh", "jti": jti}
        claims["fam"] = family
        if scopes:
            claims["scope"] = " ".join(sorted(set(scopes)))
        refresh = self.encode(claims, self.refresh_ttl)
        session.add(
            RefreshToken(
                jti=jti,
                user_id=user_id,
                family=family,
                created_at=utcnow(),
                expires_at=utcnow() + self.refresh_ttl,
            )
        )
        await session.flush()
        return TokenPair(
            self.access_token(user_id, scopes), refresh, int(self.access_ttl.total_seconds())
        )

    async def rotate(self, session: AsyncSession, token: str) -> tuple[int, TokenPair]:
        """Exchange a refresh token for a new pair; return the user id and the pair.

        A token that was already exchanged or revoked revokes its whole family. The
        exchange is one conditional `UPDATE` (the token must still be live), so of
        concurrent requests with one token exactly one wins: the others are reuse too.

        Raises:
            InvalidTokenError: the token is invalid, expired, unknown, reused or revoked.
        """
        claims = self.decode(token, "refresh")
        record = await session.scalar(select(RefreshToken).where(RefreshToken.jti == claims["jti"]))
        if record is None or str(record.user_id) != claims["sub"]:
            raise InvalidTokenError("unknown refresh token")
        user_id, family = record.user_id, record.family
        child = uuid.uuid4().hex
        claimed = await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.jti == record.jti,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.replaced_by.is_(None),
            )
            .values(revoked_at=utcnow(), replaced_by=child)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]  # used or revoked just now
            await self.revoke_family(session, family)
            raise InvalidTokenError("refresh token reuse: its family is revoked")
        scopes = str(claims.get("scope", "")).split()
        pair = await self._issue(session, user_id, scopes, family, child)
        return user_id, pair

    async def revoke_family(self, session: AsyncSession, family: str) -> None:
        """Revoke every live refresh token of `family`."""
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    async def revoke(self, session: AsyncSession, token: str) -> bool:
        """Revoke the refresh token `token` and its family; return whether it was valid.

        An invalid, expired or unknown token revokes nothing (it works nowhere).
        """
        try:
            claims = self.decode(token, "refresh")
        except InvalidTokenError:
            return False
        record = await session.scalar(select(RefreshToken).where(RefreshToken.jti == claims["jti"]))
        if record is None or str(record.user_id) != claims["sub"]:
            return False
        await self.revoke_family(session, record.family)
        return True

    async def revoke_user(self, session: AsyncSession, user_id: int) -> None:
        """Revoke every live refresh token of the user (after a password change, say)."""
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def _of_type(
    header: Mapping[str, Any], claims: Mapping[str, Any], expected: str, *, external: bool
) -> bool:
    """Say whether a verified token is of the `expected` type ("access" or "refresh").

    trivium's own tokens say so in a `type` claim, which must match: a refresh token is
    never an access token. An authorization server's access token has no such claim
    (RFC 9068): with an `issuer` configured (tokens from a named issuer) it is taken as
    an access token, unless its `typ` header names another kind of JWT.
    """
    kind = claims.get("type")
    if kind is not None or expected != "access" or not external:
        return kind == expected
    typ = header.get("typ")
    return typ is None or (isinstance(typ, str) and typ.lower() in _ACCESS_TYPS)


def _config_error(message: str) -> ConfigurationError:
    return ConfigurationError(message, "auth-jwt-config")


def _check_ttl(name: str, value: object) -> None:
    """Refuse a lifetime that would make every token request fail (or tokens born expired)."""
    if not isinstance(value, datetime.timedelta):
        example = (
            f"datetime.timedelta(seconds={value!r})"
            if isinstance(value, int | float) and not isinstance(value, bool)
            else "datetime.timedelta(minutes=15)"
        )
        raise _config_error(
            f"JWTConfig({name}={value!r}): give a datetime.timedelta, e.g. {example} "
            "(a bare number could mean seconds or minutes)"
        )
    if value <= datetime.timedelta(0):
        raise _config_error(f"JWTConfig({name}={value!r}): a lifetime must be positive")


def _load_key(algorithm: str, kid: str, key: str | bytes) -> tuple[Any, Any]:
    """Return the (signing, verifying) key objects; signing is `None` for a public key."""
    if algorithm in _HMAC:
        raw = key.encode("utf-8") if isinstance(key, str) else key
        if len(raw) < _MIN_HMAC_BYTES:
            raise _config_error(
                f"JWT key {kid!r} is {len(raw)} bytes; HMAC keys need at least "
                f"{_MIN_HMAC_BYTES} (use secrets.token_urlsafe(32))"
            )
        if raw.lstrip().startswith(b"-----BEGIN"):
            raise _config_error(f"JWT key {kid!r} is a PEM key; {algorithm} needs a secret")
        return raw, raw
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError:  # pragma: no cover - depends on the environment
        raise _config_error(f"{algorithm} needs the 'cryptography' package") from None
    data = key.encode("utf-8") if isinstance(key, str) else key
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        try:
            return None, serialization.load_pem_public_key(data)
        except (ValueError, TypeError):
            raise _config_error(f"JWT key {kid!r} is not a PEM key for {algorithm}") from None
    return private, private.public_key()
