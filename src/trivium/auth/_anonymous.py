"""`AnonymousUser` and `AuthInfo`: what the authentication middleware puts in the scope.

`scope["user"]` (`request.user`) is always a user object: the authenticated one, or
`ANONYMOUS`, a shared `AnonymousUser` that has no id and no permissions. `scope["auth"]`
(`request.auth`) says how the request was authenticated, or is `None` for anonymous ones.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Literal

__all__ = ["ANONYMOUS", "AnonymousUser", "AuthInfo", "AuthMethod"]

AuthMethod = Literal["session", "token", "jwt"]
"""How a request was authenticated."""


class AnonymousUser:
    """The user of a request that carries no valid credential.

    It answers the questions asked of a `User` (`is_authenticated`, `is_staff`, ...) with
    "no", so code can test `request.user.is_authenticated` without checking for `None`.
    """

    __slots__ = ()

    id = None
    """Anonymous users have no id."""
    pk = None
    """Anonymous users have no primary key."""
    username = ""
    """Anonymous users have no user name."""
    email = ""
    """Anonymous users have no email address."""
    is_authenticated = False
    """Always `False`."""
    is_anonymous = True
    """Always `True`."""
    is_active = False
    """Always `False`."""
    is_staff = False
    """Always `False`."""
    is_superuser = False
    """Always `False`."""

    def __repr__(self) -> str:
        return "AnonymousUser()"

    def __bool__(self) -> bool:
        return False


ANONYMOUS = AnonymousUser()
"""The shared anonymous user."""


@dataclasses.dataclass(frozen=True, slots=True)
class AuthInfo:
    """How a request was authenticated (`request.auth`)."""

    method: AuthMethod
    """`"session"`, `"token"` (an API token) or `"jwt"` (an access token)."""
    scopes: frozenset[str] | None = None
    """The scopes the credential grants; `None` for a session (the user's full rights)."""
    token_id: int | str | None = None
    """The API token's id or the JWT's `jti`."""
    expires_at: datetime.datetime | None = None
    """When the credential expires (UTC): the API token's expiry or the JWT's `exp`; `None`
    for API tokens that never expire and for sessions."""

    def has_scopes(self, required: frozenset[str]) -> bool:
        """Return whether the credential grants every scope in `required`."""
        return self.scopes is None or required <= self.scopes
