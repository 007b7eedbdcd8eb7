"""CSRF tokens: one secret per session, handed out masked differently on every call.

The secret (32 random bytes) lives in the session under a private key. A token is
`mask + (mask XOR secret)`, base64url-encoded, with a fresh random mask each time: the
bytes in a page change on every render, so compression side channels (BREACH) cannot
recover the secret, yet every token unmasks to the same secret and verifies.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import MutableMapping
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from trivium.http import HTTPConnection

__all__ = [
    "CSRF_FIELD",
    "FIELD_NAME_KEY",
    "SESSION_KEY",
    "csrf_field_name",
    "get_csrf_token",
    "mask_token",
    "rotate_csrf_secret",
    "session_of",
    "verify_token",
]

SESSION_KEY = "_csrf_secret"
"""The session key holding the CSRF secret."""

CSRF_FIELD = "csrf_token"
"""The default name of the form field carrying the token (`CSRFMiddleware(field_name=)`)."""

FIELD_NAME_KEY = "csrf.field_name"
"""Where `CSRFMiddleware` records its form field name in the scope."""


def csrf_field_name(request: HTTPConnection) -> str:
    """Return the form field the app's `CSRFMiddleware` reads the token from.

    `csrf_input()` in templates and `trivium.forms` use it, so a custom
    `field_name=` is followed everywhere.
    """
    name = request.scope.get(FIELD_NAME_KEY)
    return name if isinstance(name, str) else CSRF_FIELD


_SIZE = 32


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def session_of(scope: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Return the session in `scope`.

    Raises:
        ConfigurationError: no `SessionMiddleware` runs in front (`csrf-no-session`).
    """
    try:
        session: MutableMapping[str, Any] = scope["session"]
    except KeyError:
        raise ConfigurationError(
            "CSRF protection needs a session: add SessionMiddleware outside CSRFMiddleware "
            "(app.add_middleware(CSRFMiddleware) first, then "
            "app.add_middleware(SessionMiddleware, ...), since the last added runs first)",
            "csrf-no-session",
        ) from None
    return session


def mask_token(secret: bytes) -> str:
    """Return a freshly masked token for `secret`."""
    mask = secrets.token_bytes(len(secret))
    return _encode(mask + _xor(mask, secret))


def verify_token(session: MutableMapping[str, Any], token: str) -> bool:
    """Return whether `token` unmasks to the session's secret (in constant time)."""
    stored = session.get(SESSION_KEY)
    secret = _decode(stored) if isinstance(stored, str) else None
    raw = _decode(token) if len(token) <= 4 * _SIZE else None
    if secret is None or raw is None or len(raw) != 2 * len(secret):
        return False
    mask, masked = raw[: len(secret)], raw[len(secret) :]
    return hmac.compare_digest(_xor(mask, masked), secret)


def _xor(left: bytes, right: bytes) -> bytes:
    """`left` XOR `right`, byte by byte (equal lengths), as integers: one C operation."""
    size = len(left)
    return (int.from_bytes(left) ^ int.from_bytes(right)).to_bytes(size)


def get_csrf_token(request: HTTPConnection) -> str:
    """Return a CSRF token for a form field or an `X-CSRF-Token` header.

    The session's secret is created on first use (which saves the session and sets its
    cookie). Every call returns a differently masked token; all of them verify.

    Raises:
        ConfigurationError: the app has no `SessionMiddleware` (`csrf-no-session`).
    """
    session = session_of(request.scope)
    stored = session.get(SESSION_KEY)
    secret = _decode(stored) if isinstance(stored, str) else None
    if secret is None or len(secret) != _SIZE:
        secret = secrets.token_bytes(_SIZE)
        session[SESSION_KEY] = _encode(secret)
    return mask_token(secret)


def rotate_csrf_secret(session: MutableMapping[str, Any]) -> None:
    """Give `session` a new CSRF secret: tokens handed out before stop verifying.

    `trivium.auth` calls it at login, so a token an attacker learnt (or planted) in the
    anonymous session does not work for the logged-in user. Fetch a new token after
    logging in (`GET /auth/csrf`, or any page that renders `csrf_input()`).
    """
    session[SESSION_KEY] = _encode(secrets.token_bytes(_SIZE))
