"""`AuthConfig`: everything `Auth` can be told besides its database and secret key.

One frozen object, so a configuration can be built once (from settings, say), shared
between apps and tests, and read without surprises: each option has one place and one
meaning. `Auth(db, secret_key=..., config=AuthConfig(...))`; the same names are accepted
as keyword arguments of `Auth` for short setups.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from trivium.auth._jwt import JWTConfig
    from trivium.auth._mail import Mailer
    from trivium.auth._models import AbstractUser
    from trivium.stores import Store

__all__ = ["AuthConfig", "LoginThrottle", "ObjectPermission"]

ObjectPermission = Callable[[Any, str, Any], bool | Awaitable[bool]]
"""`(user, codename, obj) -> bool` (or an awaitable of it): may `user` do `codename` on `obj`?"""


@dataclasses.dataclass(frozen=True, slots=True)
class LoginThrottle:
    """Limits on login attempts: `(attempts, window in seconds)` per identifier and per IP."""

    per_identifier: tuple[int, float] = (5, 300.0)
    """Failed or not, at most this many attempts per user name or email per window."""
    per_ip: tuple[int, float] = (20, 300.0)
    """At most this many attempts per client address per window."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AuthConfig:
    """The options of `Auth` (all optional).

    Args:
        user_model: the user class (`User`, or your `AbstractUser` subclass; default `User`).
        session_store: where sessions live (default: the database, `DatabaseStore(db)`);
            ignored when the app installs its own `trivium.sessions.Sessions`.
        jwt: enables bearer JWTs and the `/token` and `/refresh` endpoints.
        password_validators: passed to `trivium.auth.validate_password`.
        mail: sends password reset emails (default: `ConsoleMailer()`).
        throttle_store: where login attempt counters live (default: `MemoryStore()`).
        login_throttle: login attempt limits; `None` disables them.
        signup: serve `POST /signup` in the views.
        object_permission: `(user, codename, obj) -> bool` deciding object permissions
            (default: the user's model-level permission `codename`).
        mail_from: the sender of the emails.
        reset_url: the link put in reset emails, with `{token}` where the token goes.
        reset_max_age: seconds a password reset link stays valid.
        revoke_on_password_change: what stops working when a password is changed or
            reset: `"sessions"` (the user's other sessions), `"api_tokens"` (every API
            token of the user) and `"refresh_tokens"` (JWT refresh tokens). Default: all
            three. Remove a kind to keep it alive across password changes.
        login_url: the login page that page guards (`login_required`, `.for_pages()`)
            send anonymous visitors to, with `?next=` (default: `pages_router`'s login
            page, `/accounts/login` under its default prefix).
        site_url: the site's address (`"https://example.com"`), which email links start
            with. Without it they start with the request's own host, and only when
            `TrustedHostMiddleware` checked it; in production mode (`App.production`)
            one of the two is required.
        user_cache_seconds: how long each process may serve a logged-in user's row from
            memory instead of the database (0: never). Any write to the user table through
            the app's database clears every process's cache at once (see docs/auth.md,
            "The user cache"); used only with sessions in Redis or in memory.
    """

    user_model: type[AbstractUser] | None = None
    session_store: Store | None = None
    jwt: JWTConfig | None = None
    password_validators: Sequence[Any] | None = None
    mail: Mailer | None = None
    throttle_store: Store | None = None
    login_throttle: LoginThrottle | None = LoginThrottle()
    signup: bool = False
    object_permission: ObjectPermission | None = None
    mail_from: str = "webmaster@localhost"
    reset_url: str | None = None
    reset_max_age: int = 3600
    revoke_on_password_change: Collection[str] = frozenset(
        {"sessions", "api_tokens", "refresh_tokens"}
    )
    site_url: str | None = None
    login_url: str | None = None
    user_cache_seconds: float = 5.0
