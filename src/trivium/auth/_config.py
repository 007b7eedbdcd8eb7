"""`AuthConfig`: everything `Auth` can be told besides its database and secret key.

One frozen object, so a configuration can be built once (from settings, say), shared
between apps and tests, and read without surprises: each option has one place and one
meaning. `Auth(db, secret_key=..., config=AuthConfig(...))`; the same names are accepted
as keyword arguments of `Auth` for short setups.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from trivium.auth._jwt import JWTConfig
    from trivium.auth._mail import Mailer
    from trivium.auth._models import AbstractUser
    from trivium.stores import Store

__all__ = ["AuthConfig", "LoginThrottle", "ObjectPermission", "check_config"]

ObjectPermission = Callable[[Any, str, Any], bool | Awaitable[bool]]
"""`(user, codename, obj) -> bool` (or an awaitable of it): may `user` do `codename` on `obj`?"""


@dataclasses.dataclass(frozen=True, slots=True)
class LoginThrottle:
    """Limits on login attempts: `(attempts, window in seconds)` per identifier and per IP.

    Raises:
        ConfigurationError: a limit is not a pair of a positive whole number of attempts
            and a positive number of seconds (`auth-login-throttle`).
    """

    per_identifier: tuple[int, float] = (5, 300.0)
    """Failed or not, at most this many attempts per user name or email per window."""
    per_ip: tuple[int, float] = (20, 300.0)
    """At most this many attempts per client address per window."""

    def __post_init__(self) -> None:
        # Checked here, not when the first login counts an attempt (a 500 per request).
        for name in ("per_identifier", "per_ip"):
            object.__setattr__(self, name, _limit(name, getattr(self, name)))


def _limit(name: str, value: object) -> tuple[int, float]:
    """Return `value` as `(attempts, seconds)`, or raise `auth-login-throttle`."""
    if isinstance(value, tuple | list) and len(value) == 2:
        attempts, window = value
        if (
            not isinstance(attempts, bool)
            and isinstance(attempts, int)
            and attempts >= 1
            and not isinstance(window, bool)
            and isinstance(window, int | float)
            and 0 < window < math.inf
        ):
            return attempts, window
    raise ConfigurationError(
        f"LoginThrottle({name}={value!r}): give (attempts, seconds), a whole number of "
        "attempts of at least 1 and a positive number of seconds, e.g. (5, 300)",
        "auth-login-throttle",
    )


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


def check_config(config: AuthConfig) -> frozenset[str]:
    """Refuse options that would fail at the first request; return what a password change revokes.

    Raises:
        ConfigurationError: with the option's code (`auth-revoke`, `auth-user-cache`,
            `auth-reset-max-age`, `auth-login-throttle`, `auth-jwt-config`).
    """
    from trivium.auth._jwt import JWTConfig
    from trivium.auth._models import PASSWORD_CHANGE_REVOKES

    revoke = config.revoke_on_password_change
    if isinstance(revoke, str) or not frozenset(revoke) <= PASSWORD_CHANGE_REVOKES:
        raise ConfigurationError(
            f"Auth(revoke_on_password_change={revoke!r}): give "
            f"a collection of {', '.join(sorted(PASSWORD_CHANGE_REVOKES))}",
            "auth-revoke",
        )
    seconds = config.user_cache_seconds
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise ConfigurationError(
            f"Auth(user_cache_seconds={seconds!r}): give a number of seconds (0: no cache)",
            "auth-user-cache",
        )
    age = config.reset_max_age
    if isinstance(age, bool) or not isinstance(age, int) or age < 1:
        raise ConfigurationError(
            f"Auth(reset_max_age={age!r}): give the seconds a reset link stays valid, a "
            "whole number of at least 1 (default 3600)",
            "auth-reset-max-age",
        )
    if config.login_throttle is not None and not isinstance(config.login_throttle, LoginThrottle):
        raise ConfigurationError(
            f"Auth(login_throttle={config.login_throttle!r}): give a "
            "LoginThrottle(per_identifier=(5, 300), per_ip=(20, 300)), or None for no limit",
            "auth-login-throttle",
        )
    if config.jwt is not None and not isinstance(config.jwt, JWTConfig):
        raise ConfigurationError(
            f"Auth(jwt={config.jwt!r}): give a trivium.auth.JWTConfig(keys=...)",
            "auth-jwt-config",
        )
    return frozenset(revoke)
