"""`Auth`: the authentication battery's one object, a plugin bound to a database.

`app.install(auth)` (or `auth.init_app(app)`) makes it a plugin of the app: at build time
it installs `Sessions` and `CSRF` unless the app has them, compiles its authentication
step into the routes that take the `Request`, adds the JSON views and documents its
security scheme. Everything else (login, tokens, object permissions) is a method that
handlers and the views call; request authentication lives in `_authn.py`, permissions
in `_perms.py`, API tokens in `_tokens.py`, login and logout in `_login.py`.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trivium.auth._anonymous import AuthInfo
from trivium.auth._authn import SESSION_HASH_KEY
from trivium.auth._authn import SESSION_USER_KEY
from trivium.auth._authn import AuthenticationStep
from trivium.auth._authn import UserReader
from trivium.auth._authn import resolve
from trivium.auth._config import AuthConfig
from trivium.auth._config import LoginThrottle
from trivium.auth._config import ObjectPermission
from trivium.auth._config import check_config
from trivium.auth._links import check_site_url
from trivium.auth._links import link_base
from trivium.auth._links import refuse_untrusted_links
from trivium.auth._login import authenticate
from trivium.auth._login import login
from trivium.auth._login import logout
from trivium.auth._login import matching_session_hash
from trivium.auth._login import maybe_await
from trivium.auth._login import session_hash
from trivium.auth._login import update_session_hash
from trivium.auth._mail import ConsoleMailer
from trivium.auth._mail import Mailer
from trivium.auth._models import PASSWORD_CHANGE_REVOKES
from trivium.auth._models import APIToken
from trivium.auth._models import User
from trivium.auth._passwords import refuse_weak_hasher
from trivium.auth._perms import has_perm
from trivium.auth._tokens import create_token
from trivium.auth._tokens import list_tokens
from trivium.auth._tokens import revoke_token
from trivium.auth._user_cache import UserCache
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds

# Imported here, not when the default session store is made: its table then belongs to
# `Model.metadata` before anyone calls `db.create_all()`.
from trivium.stores import DatabaseStore
from trivium.types import Scope

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.auth._jwt import JWTConfig
    from trivium.auth._ws_origin import TrustedOrigins
    from trivium.conf import Settings
    from trivium.http import Request
    from trivium.routing import BaseRoute
    from trivium.routing import Router
    from trivium.templating import Templates

__all__ = [
    "REVOCABLE",
    "SESSION_HASH_KEY",
    "SESSION_USER_KEY",
    "Auth",
    "AuthConfig",
    "LoginThrottle",
    "ObjectPermission",
]

_MIN_SECRET = 32
REVOCABLE = PASSWORD_CHANGE_REVOKES
"""What a password change can revoke (`AuthConfig(revoke_on_password_change=...)`)."""


class Auth(Plugin):
    """Authentication and authorization for an app: sessions, API tokens, JWTs, views.

    ```python
    auth = Auth(db, secret_key=settings.secret_key, config=AuthConfig(jwt=JWTConfig(...)))
    app = App(plugins=[db, auth])  # or: auth.init_app(app)
    ```

    Args:
        db: the database holding the auth tables.
        secret_key: at least 32 characters; signs sessions, session hashes and password
            reset links.
        fallback_secret_keys: older secret keys still accepted while you rotate the key:
            sessions, session hashes and reset links made with one keep working (and
            are signed anew with `secret_key`).
        config: every other option (`AuthConfig`).
        **options: the fields of `AuthConfig` as keywords, instead of `config=`
            (`Auth(db, secret_key=..., signup=True)`); not both.

    Raises:
        ConfigurationError: a secret key is too short (`auth-secret-key`), both
            `config=` and keyword options were given (`auth-config`), or an option is
            invalid (its code: `auth-revoke`, `auth-login-throttle`, ...).
        TypeError: an unknown keyword option.
    """

    install_hint = "Auth(db, secret_key=...).init_app(app) or app.install(Auth(...))"

    def __init__(
        self,
        db: Database,
        *,
        secret_key: str,
        fallback_secret_keys: Sequence[str] = (),
        config: AuthConfig | None = None,
        **options: Any,
    ) -> None:
        if isinstance(fallback_secret_keys, str | bytes):
            raise ConfigurationError(
                "Auth(fallback_secret_keys=...) takes a list of keys, not one string",
                "auth-secret-key",
            )
        for key in (secret_key, *fallback_secret_keys):
            if not isinstance(key, str) or len(key) < _MIN_SECRET:
                what = "secret_key" if key is secret_key else "fallback_secret_keys"
                raise ConfigurationError(
                    f"Auth({what}=...) needs keys of at least {_MIN_SECRET} characters; "
                    "generate one with python -c 'import secrets; print(secrets.token_urlsafe(48))'",
                    "auth-secret-key",
                )
        if config is not None and options:
            raise ConfigurationError(
                f"Auth got config= and the options {sorted(options)}; put them in the AuthConfig",
                "auth-config",
            )
        if config is None:
            try:
                config = AuthConfig(**options)
            except TypeError as exc:
                raise TypeError(f"Auth() got an unknown option: {exc}") from None
        self.config = config
        """The options (`AuthConfig`)."""
        self.revoke_on_password_change = check_config(config)
        """What a password change or reset revokes (see `REVOCABLE`)."""
        self.site_url = check_site_url(config.site_url)
        """The site's address, which email links start with (no final slash)."""
        self.db = db
        """The database holding the auth tables."""
        self.secret_key = secret_key
        self.fallback_secret_keys = tuple(fallback_secret_keys)
        """Older secret keys still accepted (key rotation); `secret_key` signs."""
        self.user_model: type[Any] = config.user_model or User
        """The user class."""
        self.session_store = config.session_store
        """The session store (the `Sessions` plugin's once the app is built)."""
        self.mail: Mailer = config.mail if config.mail is not None else ConsoleMailer()
        """The email sender."""
        self.throttle_store = config.throttle_store
        """The store of login attempt counters (`None` until first used)."""
        self.token_url = "/auth/token"  # noqa: S105 - a URL
        """Where the views answer `POST /token` (set by `router(prefix=...)`)."""
        self.users = UserReader(db, self.user_model)
        """Reads users by id without an ORM unit of work (the per-request lookup)."""
        self.step = AuthenticationStep(self)
        self.lenient_step = AuthenticationStep(self, lenient=True)
        self.exchanges: set[Callable[..., Any]] = set()
        """The views that trade credentials for new ones (they take `lenient_step`)."""
        self.trusted_origins: TrustedOrigins | None = None
        """Besides its own, the origins whose websocket handshakes a session authenticates."""
        """The step compiled into the routes that take the request."""
        self._key = secret_key.encode("utf-8")
        # Keys whose session hashes are accepted (and re-made with `_key`): the fallback
        # keys, and at build time those the app's own `Sessions` plugin still accepts.
        self._old_keys = [key.encode("utf-8") for key in fallback_secret_keys]
        self._prefix: str | None = "/auth"
        self._owned_stores: list[Any] = []  # made by from_settings: closed at shutdown
        self.login_url = config.login_url or "/accounts/login"
        """Where page guards send anonymous visitors: `AuthConfig.login_url`, else the
        login page of the first `pages_router` made (the app's own before the admin's)."""
        self.login_url_chosen = config.login_url is not None
        """Whether `login_url` is settled (`AuthConfig.login_url`, or a `pages_router`)."""

    @classmethod
    def from_settings(cls, db: Database, settings: Settings, **options: Any) -> Auth:
        """Return an `Auth` configured from `settings`; `options` as `AuthConfig`'s fields.

        The secret key, `site_url` and `mail_from` come from the settings; with a
        `mail_url` emails go through that SMTP server (`SMTPMailer.from_url`); with a
        `redis_url` the sessions and login throttle counters live in Redis (shared by
        every worker), unless `options` name their own mailer or stores.

        Raises:
            ConfigurationError: as the constructor.
        """
        options.setdefault("site_url", settings.site_url)
        options.setdefault("mail_from", settings.mail_from)
        if settings.mail_url and "config" not in options:
            from trivium.auth._smtp import SMTPMailer

            options.setdefault("mail", SMTPMailer.from_url(settings.mail_url))
        if settings.redis_url and "config" not in options:
            from trivium.stores import RedisStore

            store = RedisStore(settings.redis_url)
            options.setdefault("session_store", store)
            options.setdefault("throttle_store", store)
            auth = cls(db, secret_key=settings.secret_key.get_secret_value(), **options)
            auth._owned_stores.append(store)
            return auth
        return cls(db, secret_key=settings.secret_key.get_secret_value(), **options)

    def __repr__(self) -> str:
        return f"Auth({self.db!r}, user_model={self.user_model.__name__})"

    # Options (read from `config`) -----------------------------------------------------

    @property
    def jwt(self) -> JWTConfig | None:
        """The JWT configuration, if bearer JWTs are enabled."""
        return self.config.jwt

    @property
    def password_validators(self) -> Sequence[Any] | None:
        """Validators for new passwords (`None`: trivium.auth's defaults)."""
        return self.config.password_validators

    @property
    def login_throttle(self) -> LoginThrottle | None:
        """The login attempt limits."""
        return self.config.login_throttle

    @property
    def signup(self) -> bool:
        """Whether `POST /signup` is served."""
        return self.config.signup

    @property
    def object_permission(self) -> ObjectPermission | None:
        """The object-permission hook."""
        return self.config.object_permission

    @property
    def mail_from(self) -> str:
        """The sender address of emails."""
        return self.config.mail_from

    @property
    def reset_url(self) -> str | None:
        """The password reset link template (`{token}`)."""
        return self.config.reset_url

    @property
    def reset_max_age(self) -> int:
        """Seconds a password reset token is valid."""
        return self.config.reset_max_age

    # Plugin hooks ---------------------------------------------------------------------

    def init_app(self, app: App, *, prefix: str | None = "/auth") -> None:
        """Install on `app` (`app.install(self)`), with the JSON views at `prefix`.

        Pass `prefix=None` to include `auth.router(prefix=...)` yourself (or not at all).

        Raises:
            ConfigurationError: the app already has an `Auth` (`plugin-duplicate`).
        """
        self._prefix = prefix
        app.install(self)

    def setup(self, app: App) -> None:
        """Answer page guards' refusals (`PageForbidden`) with HTML, unless the app does.

        An app's own handler for 403 (HTML error pages) or for `PageForbidden` wins.
        """
        from trivium.auth._deps import PageForbidden
        from trivium.auth._deps import page_forbidden_handler

        if PageForbidden not in app.exception_handlers:
            app.add_exception_handler(PageForbidden, page_forbidden_handler)

    def on_build(self, app: App) -> None:
        """Install what authentication stands on: the database, `Sessions` and `CSRF`.

        Each is installed only when the app lacks it, so an app may configure its own
        (`Sessions(cookie_name=...)`, `CSRF(trusted_origins=...)`) before or after `Auth`.

        Raises:
            ConfigurationError: the app also adds `SessionMiddleware`, `CSRFMiddleware`
                or `AuthenticationMiddleware` itself (`auth-middleware`).
        """
        from trivium.auth._middleware import AuthenticationMiddleware
        from trivium.csrf import CSRF
        from trivium.csrf import CSRFMiddleware
        from trivium.sessions import SessionMiddleware
        from trivium.sessions import Sessions

        clashing = (SessionMiddleware, CSRFMiddleware, AuthenticationMiddleware)
        clashes = [item for cls in clashing for item in app.middleware_of(cls)]
        if clashes:
            raise ConfigurationError(
                f"Auth brings sessions and CSRF as plugins; remove {clashes[0].cls.__name__} "
                "from the middleware and install trivium.sessions.Sessions(...) or "
                "trivium.csrf.CSRF(...) with your options instead",
                "auth-middleware",
            )
        if not any(plugin is self.db for plugin in app.plugins):
            app.install(self.db)
        sessions = app.plugins_of(Sessions)
        if not sessions:
            if self.session_store is None:
                self.session_store = DatabaseStore(self.db)
            app.install(
                Sessions(
                    secret_key=self.secret_key,
                    fallback_secret_keys=self.fallback_secret_keys,
                    store=self.session_store,
                )
            )
        else:
            self.session_store = sessions[0].store
            # Rotating with `Sessions(fallback_secret_keys=...)` alone keeps users logged in.
            signer_keys = getattr(sessions[0].signer, "secret_keys", ())
            self._old_keys += [k for k in signer_keys if k != self._key and k not in self._old_keys]
        if not app.plugins_of(CSRF):
            app.install(CSRF())
        self.trusted_origins = app.plugins_of(CSRF)[0].origins  # for websockets too
        # Users' rows are cached per process only when every process can be told of changes.
        self.users.cache = UserCache.for_store(
            self.session_store, self.config.user_cache_seconds, self.user_model.__table__.name
        )
        refuse_untrusted_links(app, self.site_url)
        refuse_weak_hasher(app.production)

    def lifespan(self, app: App) -> contextlib.AbstractAsyncContextManager[None] | None:
        """Listen for other processes' user changes; close the stores `from_settings` made."""
        del app
        if self._owned_stores or self.users.cache is not None:
            return self._serving()
        return None

    @contextlib.asynccontextmanager
    async def _serving(self) -> AsyncIterator[None]:
        try:
            async with self.users.serving():
                yield None
        finally:
            for store in self._owned_stores:
                await store.close()

    def link_base(self, request: Request) -> str | None:
        """Return what email links start with: `site_url`, or the request's checked host.

        `None` (and an error in the log) when neither is safe to use.
        """
        return link_base(request, self.site_url)

    def routes(self, app: App) -> Sequence[Router | BaseRoute]:
        """The JSON views at the `init_app` prefix (none with `prefix=None`)."""
        del app
        return [self.router(prefix=self._prefix)] if self._prefix is not None else []

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """The authentication step, for routes whose handler or dependencies take the request."""
        if not route.takes_connection:
            return ()
        return (self.lenient_step if route.endpoint in self.exchanges else self.step,)

    def migration_folders(self, database: Any) -> Mapping[str, Path]:
        """The auth tables (and a `DatabaseStore` throttle store's table) on `self.db`."""
        if database is not self.db:
            return {}
        locations = {"trivium.auth": Path(__file__).parent / "migrations"}
        folders = getattr(self.throttle_store, "migration_folders", None)
        if folders is not None:  # a `DatabaseStore`: its table, when it is in `database`
            locations.update(folders(database))
        return locations

    def template_directories(self) -> Sequence[Path]:
        """The pages' templates (`auth/*.html`), after the app's own."""
        return [Path(__file__).parent / "templates"]

    def openapi_components(self, app: App) -> Mapping[str, Mapping[str, Any]]:
        """The security scheme the guards name: OAuth2 password flow, or API tokens."""
        del app
        from trivium.auth._deps import SCHEME_NAME
        from trivium.auth._deps import api_token_scheme
        from trivium.auth._deps import oauth2_scheme

        scheme = oauth2_scheme(self.token_url) if self.jwt is not None else api_token_scheme()
        return {"securitySchemes": {SCHEME_NAME: scheme}}

    def router(self, *, prefix: str = "/auth") -> Router:
        """Return the JSON views (login, logout, me, passwords, tokens) under `prefix`.

        The OAuth2 scheme in the app's OpenAPI document then names `{prefix}/token` as
        its token URL (and `{prefix}/refresh` as its refresh URL).
        """
        from trivium.auth._views import build_router

        self.token_url = f"{prefix.rstrip('/')}/token"
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
        """Return the user and `AuthInfo` of a connection (the authentication step's work).

        Raises:
            CredentialError: a bearer/token credential is present but invalid.
        """
        return await resolve(self, scope)

    def session_hash(self, user: Any) -> str:
        """Return the HMAC of `user`'s password hash kept in their sessions.

        Changing the password changes it, which logs out every other session (whatever
        the session store), unless `"sessions"` is left out of `revoke_on_password_change`.
        """
        return session_hash(self._key, user, "sessions" in self.revoke_on_password_change)

    def check_session_hash(self, user: Any, stored: object) -> str | None:
        """Return `user`'s session hash if `stored` is one of theirs, else `None`.

        A hash made with a fallback secret key (see `fallback_secret_keys`) is accepted:
        the caller stores the returned one, made with `secret_key`, in its place.
        """
        with_password = "sessions" in self.revoke_on_password_change
        return matching_session_hash([self._key, *self._old_keys], user, stored, with_password)

    # Login and logout -----------------------------------------------------------------

    async def authenticate(self, session: AsyncSession, identifier: str, password: str) -> Any:
        """Return the active user with this username or email and password, else `None`.

        Unknown users cost the same time as known ones (a dummy hash check).
        """
        return await authenticate(self, session, identifier, password)

    async def login(self, request: Request, user: Any, session: AsyncSession | None = None) -> None:
        """Log `user` in on this request's session under a new session id.

        The id changes (no session fixation) and so does the CSRF secret (a token
        learnt before login is worthless after). When the session belonged to another
        user (or to this one under an older password) its data is dropped first, so
        nothing of theirs leaks; logging in again as the same user, or from an
        anonymous session, keeps it (a cart, say), as Django does. `last_login` is
        updated (in `session` when given, else in a session of its own) and
        `request.user` becomes `user`.
        """
        await login(self, request, user, session)

    async def logout(self, request: Request, refresh_token: str | None = None) -> None:
        """Log the request's user out: empty the session and drop its id.

        With `refresh_token` (a JWT client logging out), that token and every token
        rotated from it stop working; an invalid or expired one is ignored, since it
        works nowhere already. Access tokens stay valid until they expire (minutes).
        """
        await logout(self, request, refresh_token)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Yield a session of `db` in a transaction, committed when the block succeeds."""
        async with self.db.sessionmaker() as session, session.begin():
            yield session

    async def set_password(self, session: AsyncSession, user: Any, raw: str) -> None:
        """Store `raw` as `user`'s password (Argon2id) and revoke what it should.

        `trivium.auth.set_password` with this app's `revoke_on_password_change`: by
        default the user's other sessions, API tokens and JWT refresh tokens stop
        working, so whoever held the account before the change (or the reset) keeps
        nothing. The views keep the session that made the change.
        """
        from trivium.auth._models import set_password

        await set_password(session, user, raw, revoke=self.revoke_on_password_change)

    async def update_session_hash(self, request: Request, user: Any) -> None:
        """Keep this session logged in after `user`'s password changed (others log out)."""
        await update_session_hash(self, request, user)

    async def throttle_login(self, request: Request, identifier: str) -> None:
        """Count one login attempt for `identifier` and the client's address.

        Call it before `authenticate` in a login view of your own, as the built-in ones
        do (see docs/auth.md, login throttling); a successful login then calls
        `reset_login_throttle(identifier)`.

        Raises:
            HTTPException: 429 with `Retry-After` when over `login_throttle`'s limits.
        """
        from trivium.auth._throttling import throttle_login

        await throttle_login(self, request, identifier)

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
            return await has_perm(user, codename, session)
        async with self.db.sessionmaker() as own:
            return await has_perm(user, codename, own)

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
            return bool(await maybe_await(self.object_permission(user, codename, obj)))
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
