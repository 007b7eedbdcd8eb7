"""`Auth`: the authentication battery's one object, bound to a database and an app.

`Auth.init_app(app)` installs the session, authentication and CSRF middleware (session
outermost, so the authentication middleware reads the session and the CSRF middleware
sees how the request was authenticated), registers itself in `app.extensions["auth"]`
and includes the JSON views. Everything else (login, tokens, object permissions) is a
method that handlers and the views call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import hmac
import inspect
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from trivium.auth._anonymous import ANONYMOUS
from trivium.auth._anonymous import AuthInfo
from trivium.auth._jwt import InvalidTokenError
from trivium.auth._jwt import JWTConfig
from trivium.auth._mail import ConsoleMailer
from trivium.auth._mail import Mailer
from trivium.auth._middleware import AuthenticationMiddleware
from trivium.auth._middleware import CredentialError
from trivium.auth._middleware import read_authorization
from trivium.auth._models import AbstractUser
from trivium.auth._models import APIToken
from trivium.auth._models import User
from trivium.auth._models import get_user_by_identifier
from trivium.auth._passwords import dummy_verify
from trivium.auth._passwords import verify_password
from trivium.auth._perms import has_perm
from trivium.auth._tokens import create_token
from trivium.auth._tokens import find_token
from trivium.auth._tokens import list_tokens
from trivium.auth._tokens import looks_like_api_token
from trivium.auth._tokens import revoke_token
from trivium.db import Database
from trivium.db import utcnow
from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.types import Scope

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.http import Request
    from trivium.routing import Router
    from trivium.templating import Templates

__all__ = ["SESSION_HASH_KEY", "SESSION_USER_KEY", "Auth", "LoginThrottle", "ObjectPermission"]

SESSION_USER_KEY = "_auth_user_id"
"""The session key holding the logged-in user's id."""
SESSION_HASH_KEY = "_auth_user_hash"
"""The session key holding an HMAC of the user's password hash (see `Auth.session_hash`)."""
_MIN_SECRET = 32

ObjectPermission = Callable[[Any, str, Any], bool | Awaitable[bool]]
"""`(user, codename, obj) -> bool` (or an awaitable of it): may `user` do `codename` on `obj`?"""


@dataclasses.dataclass(frozen=True, slots=True)
class LoginThrottle:
    """Limits on login attempts: `(attempts, window in seconds)` per identifier and per IP."""

    per_identifier: tuple[int, float] = (5, 300.0)
    """Failed or not, at most this many attempts per user name or email per window."""
    per_ip: tuple[int, float] = (20, 300.0)
    """At most this many attempts per client address per window."""


class Auth:
    """Authentication and authorization for an app: sessions, API tokens, JWTs, views.

    Args:
        db: the database holding the auth tables.
        secret_key: at least 32 characters; signs session hashes and password reset links.
        user_model: the user class (`User`, or your `AbstractUser` subclass).
        session_store: where sessions live (default: the database, `DatabaseStore(db)`).
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

    Raises:
        ConfigurationError: the secret key is too short (`auth-secret-key`).
    """

    def __init__(  # noqa: PLR0913 - keyword-only options, one per feature of the battery
        self,
        db: Database,
        *,
        secret_key: str,
        user_model: type[AbstractUser] = User,
        session_store: Any = None,
        jwt: JWTConfig | None = None,
        password_validators: Sequence[Any] | None = None,
        mail: Mailer | None = None,
        throttle_store: Any = None,
        login_throttle: LoginThrottle | None = LoginThrottle(),
        signup: bool = False,
        object_permission: ObjectPermission | None = None,
        mail_from: str = "webmaster@localhost",
        reset_url: str | None = None,
        reset_max_age: int = 3600,
    ) -> None:
        if not isinstance(secret_key, str) or len(secret_key) < _MIN_SECRET:
            raise ConfigurationError(
                f"Auth(secret_key=...) needs at least {_MIN_SECRET} characters; generate one "
                "with python -c 'import secrets; print(secrets.token_urlsafe(48))'",
                "auth-secret-key",
            )
        self.db = db
        """The database holding the auth tables."""
        self.secret_key = secret_key
        self.user_model: type[Any] = user_model
        """The user class."""
        self.session_store = session_store
        """The session store (`None` until `init_app` picks the default)."""
        self.jwt = jwt
        """The JWT configuration, if bearer JWTs are enabled."""
        self.password_validators = password_validators
        """Validators for new passwords (`None`: trivium.auth's defaults)."""
        self.mail: Mailer = mail if mail is not None else ConsoleMailer()
        """The email sender."""
        self.throttle_store = throttle_store
        """The store of login attempt counters (`None` until first used)."""
        self.login_throttle = login_throttle
        """The login attempt limits."""
        self.signup = signup
        """Whether `POST /signup` is served."""
        self.object_permission = object_permission
        """The object-permission hook."""
        self.mail_from = mail_from
        """The sender address of emails."""
        self.reset_url = reset_url
        """The password reset link template (`{token}`)."""
        self.reset_max_age = reset_max_age
        """Seconds a password reset token is valid."""
        self.token_url = "/auth/token"  # noqa: S105 - a URL
        """Where the views answer `POST /token` (set by `router(prefix=...)`)."""
        self._key = secret_key.encode("utf-8")
        self._openapi_scheme: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Auth({self.db!r}, user_model={self.user_model.__name__})"

    # Installation ---------------------------------------------------------------------

    def init_app(self, app: App, *, prefix: str | None = "/auth") -> None:
        """Install sessions, authentication and CSRF on `app`, and the views at `prefix`.

        Pass `prefix=None` to include `auth.router(prefix=...)` yourself (or not at all).

        Raises:
            ConfigurationError: the app already has an `Auth` (`auth-duplicate`).
        """
        if "auth" in app.extensions:
            raise ConfigurationError("this app already has an Auth", "auth-duplicate")
        app.extensions["auth"] = self
        include = getattr(self.db, "include_migrations", None)
        if callable(include):
            include("trivium.auth")
        self._install_middleware(app)
        self._install_openapi(app)
        if prefix is not None:
            app.include_router(self.router(prefix=prefix))

    def _install_openapi(self, app: App) -> None:
        """Register the OAuth2 scheme, whose token URL `router()` keeps up to date."""
        from trivium.auth._deps import SCHEME_NAME
        from trivium.openapi import security_schemes

        self._update_openapi_scheme()
        security_schemes(app)[SCHEME_NAME] = self._openapi_scheme

    def _update_openapi_scheme(self) -> None:
        """Describe the OAuth2 password flow at `token_url`, or API tokens when JWT is off."""
        from trivium.auth._deps import api_token_scheme
        from trivium.auth._deps import oauth2_scheme

        scheme = oauth2_scheme(self.token_url) if self.jwt is not None else api_token_scheme()
        self._openapi_scheme.clear()
        self._openapi_scheme.update(scheme)

    def _install_middleware(self, app: App) -> None:
        from trivium.csrf import CSRFMiddleware
        from trivium.middleware import Middleware
        from trivium.sessions import SessionMiddleware

        stack = app.user_middleware
        position = next(
            (i for i, m in enumerate(stack) if _is(m.cls, SessionMiddleware)),
            None,
        )
        if position is None:
            if self.session_store is None:
                from trivium.stores import DatabaseStore

                self.session_store = DatabaseStore(self.db)
            stack.append(
                Middleware(SessionMiddleware, secret_key=self.secret_key, store=self.session_store)
            )
            position = len(stack) - 1
        stack.insert(position + 1, Middleware(AuthenticationMiddleware, auth=self))
        if not any(_is(m.cls, CSRFMiddleware) for m in stack):
            stack.insert(position + 2, Middleware(CSRFMiddleware))

    def router(self, *, prefix: str = "/auth") -> Router:
        """Return the JSON views (login, logout, me, passwords, tokens) under `prefix`.

        The OAuth2 scheme in the app's OpenAPI document then names `{prefix}/token` as
        its token URL (and `{prefix}/refresh` as its refresh URL).
        """
        from trivium.auth._views import build_router

        self.token_url = f"{prefix.rstrip('/')}/token"
        self._update_openapi_scheme()
        return build_router(self, prefix)

    def pages_router(
        self, *, templates: Templates, prefix: str = "/accounts", **options: Any
    ) -> Router:
        """Return the HTML pages (login, logout, password change and reset, sign-up) under `prefix`.

        See `trivium.auth.pages_router` for the options.
        """
        from trivium.auth._pages import pages_router

        return pages_router(self, templates=templates, prefix=prefix, **options)

    # Request authentication -----------------------------------------------------------

    async def resolve(self, scope: Scope) -> tuple[Any, AuthInfo | None]:
        """Return the user and `AuthInfo` of a connection (the middleware's work).

        Raises:
            CredentialError: a bearer/token credential is present but invalid.
        """
        header = read_authorization(scope)
        if header is not None:
            kind, credential = header
            if kind == "token" or (kind == "bearer" and looks_like_api_token(credential)):
                return await self._from_api_token(credential, kind)
            if kind == "bearer":
                return await self._from_jwt(credential)
        session = scope.get("session")
        if session is None:
            return ANONYMOUS, None
        user_id = session.get(SESSION_USER_KEY)
        if user_id is None:
            return ANONYMOUS, None
        async with self.db.sessionmaker() as db_session:
            user = await db_session.get(self.user_model, user_id)
        stored = session.get(SESSION_HASH_KEY)
        if (
            user is None
            or not user.is_active
            or not isinstance(stored, str)
            or not hmac.compare_digest(stored, self.session_hash(user))
        ):
            # A deleted or deactivated user, or a password changed elsewhere: log out.
            session.pop(SESSION_USER_KEY, None)
            session.pop(SESSION_HASH_KEY, None)
            return ANONYMOUS, None
        return user, AuthInfo("session")

    async def _from_api_token(self, credential: str, kind: str) -> tuple[Any, AuthInfo]:
        challenge = "Token" if kind == "token" else "Bearer"
        async with self.db.sessionmaker() as db_session:
            token = await find_token(db_session, credential)
            user = await db_session.get(self.user_model, token.user_id) if token else None
            if token is None or user is None or not user.is_active:
                raise CredentialError("Invalid, expired or revoked API token", challenge)
            await db_session.commit()
        return user, AuthInfo("token", frozenset(token.scopes or ()), token.id)

    async def _from_jwt(self, credential: str) -> tuple[Any, AuthInfo]:
        challenge = 'Bearer error="invalid_token"'
        if self.jwt is None:
            raise CredentialError("Bearer tokens are not accepted here", challenge)
        try:
            claims = self.jwt.decode(credential, "access")
            user_id = int(claims["sub"])
        except (InvalidTokenError, ValueError):
            raise CredentialError("Invalid or expired token", challenge) from None
        async with self.db.sessionmaker() as db_session:
            user = await db_session.get(self.user_model, user_id)
        if user is None or not user.is_active:
            raise CredentialError("Invalid or expired token", challenge)
        scopes = frozenset(str(claims.get("scope", "")).split())
        return user, AuthInfo("jwt", scopes, claims["jti"])

    def session_hash(self, user: Any) -> str:
        """Return the HMAC of `user`'s password hash kept in their sessions.

        Changing the password changes it, which logs out every other session.
        """
        data = b"trivium.auth.session:" + str(user.password).encode("utf-8")
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    # Login and logout -----------------------------------------------------------------

    async def authenticate(self, session: AsyncSession, identifier: str, password: str) -> Any:
        """Return the active user with this username or email and password, else `None`.

        Unknown users cost the same time as known ones (a dummy hash check).
        """
        user = await get_user_by_identifier(session, identifier, model=self.user_model)
        if user is None:
            await dummy_verify()
            return None
        matches, new_hash = await verify_password(password, user.password)
        if not matches or not user.is_active:
            return None
        if new_hash is not None:
            user.password = new_hash
        return user

    async def login(self, request: Request, user: Any, session: AsyncSession | None = None) -> None:
        """Log `user` in on this request's session under a new session id.

        The id changes (no session fixation), `last_login` is updated (in `session` when
        given, else in a session of its own) and `request.user` becomes `user`.
        """
        store = request.session
        await _maybe_await(store.rotate())  # type: ignore[attr-defined]
        store[SESSION_USER_KEY] = user.id
        store[SESSION_HASH_KEY] = self.session_hash(user)
        now = utcnow()
        statement = update(self.user_model).where(self.user_model.id == user.id)
        if session is not None:
            await session.execute(statement.values(last_login=now))
        else:
            async with self.db.sessionmaker() as own, own.begin():
                await own.execute(statement.values(last_login=now))
        user.last_login = now
        request.scope["user"] = user
        request.scope["auth"] = AuthInfo("session")

    async def logout(self, request: Request) -> None:
        """Log the request's user out: empty the session and drop its id."""
        await _maybe_await(request.session.flush())  # type: ignore[attr-defined]
        request.scope["user"] = ANONYMOUS
        request.scope["auth"] = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Yield a session of `db` in a transaction, committed when the block succeeds."""
        async with self.db.sessionmaker() as session, session.begin():
            yield session

    async def set_password(self, session: AsyncSession, user: Any, raw: str) -> None:
        """Store `raw` as `user`'s password (Argon2id); their JWT refresh tokens stop working."""
        from trivium.auth._models import set_password

        await set_password(user, raw)
        if self.jwt is not None:
            await self.jwt.revoke_user(session, user.id)
        await session.flush()

    async def update_session_hash(self, request: Request, user: Any) -> None:
        """Keep this session logged in after `user`'s password changed (others log out)."""
        store = request.session
        await _maybe_await(store.rotate())  # type: ignore[attr-defined]
        store[SESSION_USER_KEY] = user.id
        store[SESSION_HASH_KEY] = self.session_hash(user)

    async def reset_login_throttle(self, identifier: str) -> None:
        """Forget the failed login attempts of `identifier` (an admin unlocking an account)."""
        from trivium.auth._throttling import reset_login_throttle

        await reset_login_throttle(self, identifier)

    # API tokens -----------------------------------------------------------------------

    async def create_token(
        self,
        session: AsyncSession,
        user: Any,
        name: str,
        *,
        scopes: Sequence[str] = (),
        expires_in: datetime.timedelta | None = None,
    ) -> tuple[APIToken, str]:
        """Create an API token for `user`; return the row and the key, to show once."""
        return await create_token(session, user.id, name, scopes=scopes, expires_in=expires_in)

    async def list_tokens(self, session: AsyncSession, user: Any) -> list[APIToken]:
        """Return `user`'s live API tokens, newest first."""
        return await list_tokens(session, user.id)

    async def revoke_token(self, session: AsyncSession, user: Any, token_id: int) -> bool:
        """Revoke `user`'s token `token_id`; return whether one was revoked."""
        return await revoke_token(session, user.id, token_id)

    # Permissions ----------------------------------------------------------------------

    async def has_perm(self, user: Any, codename: str, session: AsyncSession | None = None) -> bool:
        """Return whether `user` has the model-level permission `codename`."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        if user.is_superuser:
            return True
        if session is not None:
            return await has_perm(session, user, codename)
        async with self.db.sessionmaker() as own:
            return await has_perm(own, user, codename)

    async def has_object_permission(
        self, user: Any, codename: str, obj: Any, session: AsyncSession | None = None
    ) -> bool:
        """Return whether `user` may do `codename` on `obj`.

        Inactive and anonymous users may not, active superusers may; otherwise the
        `object_permission` hook decides, or without one the model-level permission.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        if user.is_superuser:
            return True
        if self.object_permission is not None:
            return bool(await _maybe_await(self.object_permission(user, codename, obj)))
        return await self.has_perm(user, codename, session)

    async def check_object_permission(
        self, request: Request, codename: str, obj: Any, session: AsyncSession | None = None
    ) -> None:
        """Raise 401 for anonymous requests, 403 unless the user may do `codename` on `obj`.

        Pass the handler's `session` when it already holds a transaction (SQLite has one writer).
        """
        user = request.user
        if not getattr(user, "is_authenticated", False):
            raise not_authenticated()
        if not await self.has_object_permission(user, codename, obj, session):
            raise HTTPException(403, "You do not have permission to perform this action")


def not_authenticated() -> HTTPException:
    """Return the 401 raised when a route needs a user and the request has none."""
    return HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})


def _is(cls: Any, base: type) -> bool:
    return isinstance(cls, type) and issubclass(cls, base)


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value
