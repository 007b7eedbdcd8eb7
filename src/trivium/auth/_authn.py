"""Request authentication: who sent this request, read as cheaply as the database allows.

`AuthenticationStep` is compiled into the routes that take the `Request` (or `WebSocket`)
and runs after the session step. Credentials are looked at in order: an `Authorization`
header (`Bearer <jwt>`, `Token <api token>`, or `Bearer trv_...` for an API token), else
the session's user id (not for a websocket handshake from another origin). A request
with neither is anonymous and costs no database query. A credential that is present but wrong (bad signature, expired, revoked) is answered 401
with a `WWW-Authenticate` challenge, so handlers never see a half-authenticated user.

The logged-in user of a session is read with `UserReader`: one `SELECT` by primary key,
built once per model as a `Database.prepare` query: on PostgreSQL a driver-prepared
statement on a pooled connection (no `BEGIN`/`ROLLBACK` round trips, no ORM session or
identity map). The row becomes a *detached* instance of
the user model, so handlers may still `session.add(request.user)` to change it.

These reads run before the handler's request session, yet a stalled database
(connections open, no answer) must not hold the request: they are bounded by the
database's deadline (`Database(timeout=)`) and answered 504 with `Retry-After` past it,
as the database battery answers its own deadlines, where a database that refuses
connections keeps its 503 (`DatabaseUnavailableError`). On asyncpg's direct path a
plain timeout does it (asyncpg gives up a cancelled fetch cleanly); elsewhere the read
runs in the database's own bounded session (`db.session`),
whose deadline closes the connection under the statement instead of cancelling the
driver mid-read, which aiomysql does not survive.
"""

from __future__ import annotations

import contextlib
import datetime
import inspect
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import anyio
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from trivium.auth._anonymous import ANONYMOUS
from trivium.auth._anonymous import AuthInfo
from trivium.auth._jwt import InvalidTokenError
from trivium.auth._middleware import CredentialError
from trivium.auth._middleware import read_authorization
from trivium.auth._tokens import find_token
from trivium.auth._tokens import looks_like_api_token
from trivium.auth._ws_origin import cross_origin_handshake
from trivium.db import DatabaseTimeoutError
from trivium.errors import HTTPException
from trivium.plugins import RequestStep

if TYPE_CHECKING:
    from trivium.auth._auth import Auth
    from trivium.auth._user_cache import UserCache
    from trivium.db import Database
    from trivium.db import PreparedQuery
    from trivium.http import HTTPConnection
    from trivium.types import Scope

__all__ = ["SESSION_HASH_KEY", "SESSION_USER_KEY", "AuthenticationStep", "UserReader", "resolve"]

SESSION_USER_KEY = "_auth_user_id"
"""The session key holding the logged-in user's id."""
SESSION_HASH_KEY = "_auth_user_hash"
"""The session key holding an HMAC of the user's password hash (see `Auth.session_hash`)."""

Row = Sequence[Any]
_RETRY_AFTER = 5
"""Seconds a client is asked to wait after the 504 (as for the database battery's own)."""


async def _first_within(db: Database, query: PreparedQuery, user_id: Any) -> Row | None:
    """Return `query.first(user_id=...)`, or raise a 504 once `db.timeout` seconds passed.

    Raises:
        DatabaseTimeoutError: the database did not answer in time (stalled, not down).
    """
    seconds = db.timeout
    if seconds is None:
        return await query.first(user_id=user_id)
    with anyio.move_on_after(seconds):
        return await query.first(user_id=user_id)
    error = DatabaseTimeoutError(
        f"the database work took longer than {seconds:g} s",  # as the database says it
        retry_after=_RETRY_AFTER,
    )
    db.outage.failed_with(error)  # one log line per outage, as for the database's own 504s
    raise error


class UserReader:
    """Read a user by primary key without an ORM unit of work (see the module docstring)."""

    __slots__ = ("_engine", "cache", "columns", "db", "model", "query")

    def __init__(self, db: Database, model: type[Any]) -> None:
        self.db = db
        self.model = model
        self.cache: UserCache | None = None
        """The per-process cache of rows (`Auth` sets it when its session store allows)."""
        self._engine: Any = None  # the engine the cache watches (a new one after dispose)
        table = model.__table__
        mapper = model.__mapper__
        self.columns = [
            (prop.key, prop.columns[0].key)
            for prop in mapper.column_attrs
            if prop.columns[0].table is table
        ]
        primary = mapper.primary_key[0]
        self.query = db.prepare(
            select(*(table.c[name] for _, name in self.columns)).where(
                primary == bindparam("user_id")
            )
        )

    def watch(self) -> None:
        """Have the cache watch the database's current engine for writes to the user table.

        Called at start-up, and again when the database made a new engine (after
        `dispose()`).
        """
        if self.cache is not None and self._engine is not self.db.engine:
            self._engine = self.db.engine
            self.cache.clear()
            self.cache.watch(self._engine)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """While the app serves: watch for writes and listen for other processes' clears."""
        if self.cache is None:
            yield
            return
        self.watch()  # writes made before any user was read are seen too
        async with self.cache.listening():
            yield

    async def get(self, user_id: Any) -> Any:
        """Return the detached user with this primary key, or `None`."""
        cache = self.cache
        if cache is None:
            row = await self._read(user_id)
        else:
            if self._engine is not self.db.engine:
                self.watch()
            row = cache.get(user_id)
            if row is None:
                generation = cache.generation
                row = await self._read(user_id)
                if row is not None:
                    cache.put(user_id, row, generation)
        if row is None:
            return None
        user = self.model.__mapper__.class_manager.new_instance()
        for (key, _), value in zip(self.columns, row, strict=True):
            set_committed_value(user, key, value)
        make_transient_to_detached(user)
        return user

    async def _read(self, user_id: Any) -> Row | None:
        """Read the user's row within the database's deadline (see the module docstring)."""
        query, db = self.query, self.db
        if db.is_sqlite:  # a file: locked or unwritable is a 503 already, it never stalls
            return await query.first(user_id=user_id)
        if query.direct:
            return await _first_within(db, query, user_id)
        # `db.session`, not `db.autocommit_session`: the latter's deadline does not reach
        # its connection on aiomysql (a stalled read then waits for the server, unbounded).
        async with contextlib.asynccontextmanager(db.session)() as session:
            result = await session.execute(query.statement, {"user_id": user_id})
            row: Row | None = result.first()
            return row


class AuthenticationStep(RequestStep):
    """Set `request.user` and `request.auth` (401 for an invalid credential).

    A `lenient` step, on the views that exchange credentials for new ones (log in, get
    or refresh a token, sign up, reset a password), reads an invalid credential as none:
    a client still sending its expired access token must be able to get a new one.
    """

    __slots__ = ("auth", "lenient")
    order = 200

    def __init__(self, auth: Auth, *, lenient: bool = False) -> None:
        self.auth = auth
        self.lenient = lenient

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        """Resolve the connection's user from its credential or session.

        A plain function (see `RequestStep`): a request with neither credentials nor a
        logged-in session is anonymous at once; otherwise the look-up is returned to await.
        """
        scope = connection.scope
        lookup = _lookup(self.auth, scope)
        if lookup is None:
            scope["user"] = ANONYMOUS
            scope["auth"] = None
            return None
        return self._resolved(scope, lookup)

    async def _resolved(self, scope: Scope, lookup: Awaitable[tuple[Any, AuthInfo | None]]) -> None:
        try:
            user, info = await lookup
        except CredentialError as exc:
            if self.lenient:
                scope["user"] = ANONYMOUS
                scope["auth"] = None
                return
            raise HTTPException(
                401, exc.detail, headers={"WWW-Authenticate": exc.challenge}
            ) from None
        scope["user"] = user
        scope["auth"] = info


async def resolve(auth: Auth, scope: Scope) -> tuple[Any, AuthInfo | None]:
    """Return the user and `AuthInfo` of a connection.

    Raises:
        CredentialError: a bearer/token credential is present but invalid.
    """
    lookup = _lookup(auth, scope)
    return (ANONYMOUS, None) if lookup is None else await lookup


def _lookup(auth: Auth, scope: Scope) -> Awaitable[tuple[Any, AuthInfo | None]] | None:
    """The look-up of the connection's user; `None` for an anonymous one (nothing to read).

    A credential in `Authorization` wins; otherwise the session's logged-in user, but
    not on a websocket handshake from another origin (see `_ws_origin`).
    """
    lookup = _from_credential(auth, scope)
    if lookup is not None:
        return lookup
    session = scope.get("session")
    user_id = None if session is None else session.get(SESSION_USER_KEY)
    if user_id is None or cross_origin_handshake(scope, auth.trusted_origins):
        return None
    return _from_session(auth, session, user_id)


def _from_credential(auth: Auth, scope: Scope) -> Awaitable[tuple[Any, AuthInfo | None]] | None:
    """The look-up of the API token or JWT in `Authorization`; `None` without either."""
    header = read_authorization(scope)
    if header is not None:
        kind, credential = header
        if kind == "token" or (kind == "bearer" and looks_like_api_token(credential)):
            return _from_api_token(auth, credential, kind)
        if kind == "bearer":
            return _from_jwt(auth, credential)
    return None


async def _from_session(auth: Auth, session: Any, user_id: Any) -> tuple[Any, AuthInfo | None]:
    """The session's user (`user_id`, read from it), or anonymous if it no longer holds.

    A session that no longer holds (a deleted or deactivated user, a password changed
    elsewhere) is flushed, as at logout: its data belonged to that user, and nobody
    using the browser next (anonymous, or logging in) may read it.
    """
    user = await auth.users.get(user_id)
    stored = session.get(SESSION_HASH_KEY)
    current = None if user is None or not user.is_active else auth.check_session_hash(user, stored)
    if current is None:
        flush = getattr(session, "flush", None)
        if flush is None:
            session.clear()
        elif inspect.isawaitable(result := flush()):
            await result
        return ANONYMOUS, None
    if current != stored:  # made with a fallback secret key: sign it with the new one
        session[SESSION_HASH_KEY] = current
    return user, AuthInfo("session")


async def _from_api_token(auth: Auth, credential: str, kind: str) -> tuple[Any, AuthInfo]:
    challenge = "Token" if kind == "token" else "Bearer"
    # The database's bounded session: a stalled database answers 504, not never.
    async with contextlib.asynccontextmanager(auth.db.session)() as db_session:
        token = await find_token(db_session, credential)
        user = await db_session.get(auth.user_model, token.user_id) if token else None
        if token is None or user is None or not user.is_active:
            raise CredentialError("Invalid, expired or revoked API token", challenge)
        await db_session.commit()
    return user, AuthInfo("token", frozenset(token.scopes or ()), token.id, token.expires_at)


async def _from_jwt(auth: Auth, credential: str) -> tuple[Any, AuthInfo]:
    challenge = 'Bearer error="invalid_token"'
    if auth.jwt is None:
        raise CredentialError("Bearer tokens are not accepted here", challenge)
    try:
        claims = auth.jwt.decode(credential, "access")
        user_id = int(claims["sub"])
    except (InvalidTokenError, ValueError):
        raise CredentialError("Invalid or expired token", challenge) from None
    user = await auth.users.get(user_id)
    if user is None or not user.is_active:
        raise CredentialError("Invalid or expired token", challenge)
    scopes = frozenset(str(claims.get("scope", "")).split())
    expires_at = datetime.datetime.fromtimestamp(claims["exp"], datetime.UTC)
    return user, AuthInfo("jwt", scopes, claims["jti"], expires_at)
