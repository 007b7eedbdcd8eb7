"""Shared login: a user logged in to the mounted legacy app is `request.user` in trivium.

`SharedLogin` is a plugin contributing one request step, compiled into the routes that
take the request, ordered after trivium's own authentication (`Auth`, order 200). When
trivium found no user, the step reads the legacy app's login from the request's cookie
(`DjangoLogin`: Django's session table; `FlaskLogin`: Flask's signed session cookie),
takes the legacy user's e-mail (or another identity column) and sets `request.user` to
the *active trivium user* holding exactly that value. Nothing is written to the legacy
side: its session is neither refreshed nor changed, and no trivium user is created
(copy users first).

Exactly, because the two sides don't agree on when two spellings are one account:
trivium folds case and Unicode compatibility forms (`normalize_email`), while Django and
most Flask apps keep `ANN@EXAMPLE.COM`, `ann@example.com` and the same address in
full-width letters as three accounts, which anyone may register. Folding the legacy
value would log those accounts in as trivium's `ann`. Only an e-mail's ASCII domain is
compared without case, as Django stores it lower-cased anyway.

The trivium session is bound to the legacy login it was used with (the identity is
kept in it): when another legacy user (or none) shows up on the same browser, the
session is flushed and its CSRF secret renewed, as trivium's own login does when the
user changes, so nothing written for the previous user (and none of their CSRF tokens)
reaches the next.
"""

from __future__ import annotations

import datetime
import hashlib
import inspect
import logging
from collections.abc import AsyncIterator
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from typing import Any

from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import bindparam
from sqlalchemy import column
from sqlalchemy import select
from sqlalchemy import table

from trivium.auth import Auth
from trivium.auth import AuthInfo
from trivium.auth import cross_origin_handshake
from trivium.csrf import rotate_csrf_secret
from trivium.errors import ConfigurationError
from trivium.interop._cookies import LegacyCookie
from trivium.interop._cookies import check_session_cookies
from trivium.interop._cookies import legacy_session_cookie
from trivium.interop._key import LegacyKey
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.routing import Mount

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractAsyncContextManager

    from trivium.app import App
    from trivium.db import Database
    from trivium.http import HTTPConnection
    from trivium.plugins import RouteNeeds
    from trivium.routing import BaseRoute
    from trivium.routing import Router
    from trivium.types import Scope

__all__ = ["FlaskLogin", "SharedLogin"]

logger = logging.getLogger("trivium.interop")

_WARNED_LIMIT = 10_000  # identities warned about once each; a bound on the memory kept


class _LegacyLoginStep(RequestStep):
    __slots__ = ("plugin",)
    order = 210  # after trivium's authentication (200), before the CSRF check (300)

    def __init__(self, plugin: SharedLogin) -> None:
        self.plugin = plugin

    async def before(self, connection: HTTPConnection) -> None:
        scope = connection.scope
        if getattr(scope.get("user"), "is_authenticated", False):
            return  # trivium's own login wins
        plugin = self.plugin
        if cross_origin_handshake(scope, plugin.auth.trusted_origins):
            # As for trivium's own session: a legacy cookie never logs in a websocket
            # handshake that another site's page opened (cross-site websocket hijacking).
            return
        identity = await plugin.legacy_identity(connection) or None
        session = scope.get("session")
        if session is not None:
            await plugin.bind(session, identity)
        user = None if identity is None else await plugin.trivium_user(identity)
        if user is not None:
            scope["user"] = user
            scope["auth"] = AuthInfo("session")


class SharedLogin(Plugin):
    """Base of the shared-login plugins: map a legacy login to a trivium user.

    Subclasses implement `legacy_identity(connection)`.

    Args:
        auth: the app's `Auth` (its database holds the trivium users).
        match: the trivium user column the legacy identity is compared with
            (`"email"` by default, or `"username"`).
    """

    unique = False
    cookie_name: str | None = None
    """The legacy session cookie's name (checked against trivium's at start-up)."""

    def __init__(self, auth: Auth, *, match: str = "email") -> None:
        if not isinstance(auth, Auth):
            raise ConfigurationError(
                f"{type(self).__name__} needs the app's Auth, got {auth!r}", "interop-login"
            )
        model = auth.user_model
        columns = model.__table__.c
        if match not in columns or match == "password":
            raise ConfigurationError(
                f"{type(self).__name__}(match={match!r}): {model.__name__} has no such "
                "identity column; use 'email' or 'username'",
                "interop-login",
            )
        self.auth = auth
        """The app's `Auth`."""
        self.match = match
        """The trivium user column compared with the legacy identity."""
        primary = model.__mapper__.primary_key[0]
        self._by_identity = auth.db.prepare(
            select(primary).where(columns[match] == bindparam("identity"))
        )
        self._step = _LegacyLoginStep(self)
        self._exact: Callable[[str], str] = _exact_email if match == "email" else str
        self._warned: set[str] = set()
        self.legacy_db: Database | None = None
        """The legacy app's database (set by subclasses), closed at shutdown."""

    def setup(self, app: App) -> None:
        """Check that the `Auth` given is the app's."""
        if self.auth not in app.plugins:
            raise ConfigurationError(
                f"{type(self).__name__}(auth): that Auth is not installed on the app; "
                "install it first (App(plugins=[db, auth, shared_login]))",
                "interop-login",
            )

    def routes(self, app: App) -> Sequence[Router | BaseRoute]:
        """Add no route; check that the legacy session cookie's name is not trivium's.

        Checked once every plugin is set up (`Auth` installs its `Sessions` when the app
        is built): the shared cookie, and those of the Flask or Django apps mounted on
        the app with `app.mount(...)`.

        Raises:
            ConfigurationError: a legacy session cookie has the name of trivium's
                (`interop-cookie-clash`).
        """
        legacy: list[LegacyCookie | None] = [
            legacy_session_cookie(route.app) for route in app.routes if isinstance(route, Mount)
        ]
        if self.cookie_name is not None:
            where = f"the cookie {type(self).__name__} reads (cookie_name=)"
            legacy.insert(0, (self.cookie_name, where))
        check_session_cookies(app, legacy)
        return ()

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """The login step, on routes that take the request."""
        return (self._step,) if route.takes_connection else ()

    async def legacy_identity(self, connection: HTTPConnection) -> str | None:
        """Return the identity (e-mail, user name) of the legacy login, or `None`."""
        raise NotImplementedError

    def lifespan(self, app: App) -> AbstractAsyncContextManager[None] | None:
        """Close the legacy database's connections at shutdown."""
        return _disposing(self.legacy_db)

    @property
    def session_key(self) -> str:
        """The trivium session key holding the legacy identity the session is bound to."""
        return f"_interop_login:{self.cookie_name or type(self).__name__}"

    async def user_for(self, connection: HTTPConnection) -> Any:
        """Return the active trivium user of the request's legacy login, or `None`."""
        identity = await self.legacy_identity(connection)
        return await self.trivium_user(identity) if identity else None

    async def trivium_user(self, identity: str) -> Any:
        """Return the active trivium user whose `match` column is exactly `identity`.

        Exactly: trivium's stored value must equal the legacy one (an e-mail's ASCII
        domain aside, compared without case), never a case-folded or NFKC-folded form
        of it, which would let `ANN@EXAMPLE.COM` (or `ann` in full-width letters), an
        account of its own on the legacy side, log in as trivium's `ann@example.com`.
        An identity matching nobody is anonymous here, and logged once at WARNING.
        """
        row = await self._by_identity.first(identity=self._exact(identity))
        if row is None:
            if identity not in self._warned and len(self._warned) < _WARNED_LIMIT:
                self._warned.add(identity)
                logger.warning(
                    "%s: the legacy login %r matches no trivium user's %s exactly, so it is "
                    "anonymous in trivium routes (identities are compared exactly, not "
                    "case-folded: see docs/interop.md#shared-login)",
                    type(self).__name__,
                    identity,
                    self.match,
                )
            return None
        user = await self.auth.users.get(row[0])
        if user is None or not user.is_active:
            return None
        return user

    async def bind(self, session: Any, identity: str | None) -> None:
        """Bind the trivium `session` to the legacy `identity` (`None`: logged out).

        On a change of legacy user the session is flushed and gets a new CSRF secret,
        as at a trivium login by another user, and on a legacy logout it is flushed, as
        at a trivium logout: what was written for the previous user, and their CSRF
        tokens, don't reach whoever uses the browser next. A first login keeps the data
        (a cart filled while anonymous) under a new session id and CSRF secret, like
        trivium's own login. An anonymous request with no binding writes nothing.
        """
        key = self.session_key
        bound = session.get(key)
        if bound == identity:
            return
        if bound is not None:
            flush = getattr(session, "flush", None)
            if flush is None:
                session.clear()
            elif inspect.isawaitable(result := flush()):
                await result
        else:
            rotate = getattr(session, "rotate", None)
            if rotate is not None and inspect.isawaitable(result := rotate()):
                await result
        if identity is not None:
            rotate_csrf_secret(session)
            session[key] = identity


class FlaskLogin(SharedLogin):
    """Share Flask-Login's logins: Flask's session cookie, checked with its secret key.

    Args:
        auth: the app's `Auth`.
        secret_key: the Flask app's `SECRET_KEY`.
        legacy_db: the database of the Flask app's users (read-only).
        user_table: the table Flask-Login's `user_loader` reads.
        id_column: its primary key (what Flask-Login stores as `_user_id`).
        identity_column: its column holding the value compared with `match`.
        match: the trivium user column (`"email"` or `"username"`).
        cookie_name: Flask's `SESSION_COOKIE_NAME`.
        max_age: Flask's `PERMANENT_SESSION_LIFETIME` (seconds): older cookies are refused.
        fallback_keys: Flask's `SECRET_KEY_FALLBACKS` (Flask 3.1): older keys a cookie
            may still be signed with.
        session_protection: Flask-Login's `session_protection` (or the app's
            `SESSION_PROTECTION`): with `"strong"`, a session whose `_id` is not the
            request's (another client address or User-Agent) is anonymous, as in
            Flask-Login, unless the session is permanent; `"basic"` (Flask-Login's
            default) and `None` don't refuse a session.
    """

    def __init__(  # noqa: PLR0913 - the Flask app's own settings, all keyword-only
        self,
        auth: Auth,
        *,
        secret_key: str,
        legacy_db: Database,
        user_table: str = "user",
        id_column: str = "id",
        identity_column: str = "email",
        match: str = "email",
        cookie_name: str = "session",
        max_age: int = 31 * 24 * 3600,
        fallback_keys: Sequence[str] = (),
        session_protection: str | None = "basic",
    ) -> None:
        super().__init__(auth, match=match)
        keys = (secret_key, *fallback_keys)
        if any(not isinstance(key, str) or not key for key in keys):
            raise ConfigurationError(
                "FlaskLogin(secret_key=..., fallback_keys=...): give the Flask app's "
                "SECRET_KEY and SECRET_KEY_FALLBACKS, each a non-empty string",
                "interop-login",
            )
        if session_protection not in ("basic", "strong", None):
            raise ConfigurationError(
                f"FlaskLogin(session_protection={session_protection!r}): give the Flask "
                "app's own value, 'basic' (Flask-Login's default), 'strong' or None",
                "interop-login",
            )
        self.cookie_name: str = cookie_name
        """The Flask session cookie's name (`SESSION_COOKIE_NAME`)."""
        self.max_age = max_age
        self.session_protection = session_protection
        """Flask-Login's `session_protection`: `"strong"` refuses a session of another client."""
        # Flask's SecureCookieSessionInterface: HMAC-SHA1 with the "cookie-session" salt,
        # the fallbacks first and the current key last (itsdangerous signs with the last).
        self._serializer = URLSafeTimedSerializer(
            [*fallback_keys, secret_key],
            salt="cookie-session",
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )
        self.legacy_db = legacy_db
        self._key = LegacyKey(legacy_db, user_table, id_column)
        users = table(user_table, column(id_column), column(identity_column))
        self._identity = legacy_db.prepare(
            select(users.c[identity_column]).where(users.c[id_column] == bindparam("user_id"))
        )

    async def legacy_identity(self, connection: HTTPConnection) -> str | None:
        """Read `_user_id` from Flask's session cookie, then the user's identity column."""
        cookie = connection.cookies.get(self.cookie_name)
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None  # forged, expired or another app's cookie: not logged in
        user_id = data.get("_user_id") if isinstance(data, dict) else None
        if user_id is None:
            return None
        if (
            self.session_protection == "strong"
            and not data.get("_permanent")  # Flask-Login treats those as "basic"
            and data.get("_id") != flask_login_identifier(connection.scope)
        ):
            return None  # Flask-Login logs this session out: another client's cookie
        key = await self._key.value(user_id)
        if key is None:
            return None  # not a value of the key column: no such user
        row = await self._identity.first(user_id=key)
        return None if row is None or row[0] is None else str(row[0])


def flask_login_identifier(scope: Scope) -> str:
    """Return the `_id` Flask-Login keeps in the session of a login made with this request.

    Flask-Login's `_create_identifier`, on the environ the mount builds from `scope`:
    the SHA-512 of `"{address}|{user_agent}"`, each the repr of its UTF-8 bytes (or
    `None`), the address being the first of `X-Forwarded-For` if sent, else the peer's.
    """
    forwarded = _header(scope, b"x-forwarded-for")
    if forwarded is None:
        client = scope.get("client")
        forwarded = str(client[0]) if client else None
    address = None if forwarded is None else forwarded.encode().split(b",")[0].strip()
    agent = _header(scope, b"user-agent")
    user_agent = None if agent is None else agent.encode()
    return hashlib.sha512(f"{address!r}|{user_agent!r}".encode()).hexdigest()


def _header(scope: Scope, name: bytes) -> str | None:
    """Return the header as the mounted app reads it: repeated values joined with ","."""
    values = [bytes(value).decode("latin-1") for key, value in scope["headers"] if key == name]
    return ",".join(values) if values else None


@asynccontextmanager
async def _disposing(db: Database | None) -> AsyncIterator[None]:
    try:
        yield
    finally:
        if db is not None:
            await db.dispose()


def _exact_email(email: str) -> str:
    """Return `email` with its domain lower-cased if ASCII (as Django stores it), as is else."""
    local, at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}" if at and domain.isascii() else email


def utc_now() -> datetime.datetime:
    """Return the current time in UTC (aware)."""
    return datetime.datetime.now(datetime.UTC)
