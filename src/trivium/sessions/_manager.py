"""`SessionManager`: server-side sessions keyed by a signed random id in a cookie.

The cookie carries nothing but the session id, signed with the app's secret key
(itsdangerous, HMAC-SHA256), so a client can neither read the data nor guess or forge
an id; a cookie that fails verification is treated as no cookie, never as an error. The
data is JSON in a `Store` under `session:<id>`, living `max_age` seconds.

Per request: no cookie means no store access at all; a cookie means one `get` before the
handler runs. When the response is ready, the session is saved only if it changed; a
rotated or flushed session's old id is deleted; an emptied session expires the cookie.
A session that existed when it was loaded is only overwritten, never created again: if
another request deleted, rotated or flushed it meanwhile (a logout during a slow
request), the late change is dropped and no cookie is sent (`_writes`).

The manager holds that logic once; the `Sessions` plugin (a request step compiled into
the routes that can read the session) and the plain ASGI `SessionMiddleware` both use it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import orjson

from trivium.errors import ConfigurationError
from trivium.errors import MissingDependencyError
from trivium.http import SameSite
from trivium.http import format_set_cookie
from trivium.sessions._session import Session
from trivium.sessions._writes import ExistingWrites
from trivium.sessions._writes import existing_writes
from trivium.stores import MemoryStore
from trivium.stores import Store
from trivium.types import Scope

if TYPE_CHECKING:
    from itsdangerous import Signer

__all__ = ["MIN_SECRET_KEY_LENGTH", "SessionManager", "vary_on_cookie"]

logger = logging.getLogger("trivium.sessions")

MIN_SECRET_KEY_LENGTH = 32
"""Shortest secret key accepted, in characters."""
_SAME_SITE = {"lax": "Lax", "strict": "Strict", "none": "None"}
_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _check_key(key: object, what: str) -> str:
    if isinstance(key, str) and len(key) >= MIN_SECRET_KEY_LENGTH:
        return key
    if key is None:
        problem = f"{what} is missing"
    else:
        problem = f"{what} is " + ("empty" if not key else f"{len(str(key))} characters long")
    raise ConfigurationError(
        f"{problem}: it must be a random string of at least {MIN_SECRET_KEY_LENGTH} "
        'characters; generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"',
        "session-secret-key",
    )


def _signer(secret_key: str | None, fallbacks: Sequence[str]) -> Signer:
    try:
        from itsdangerous import Signer
    except ImportError:  # pragma: no cover - installed in the test environment
        raise MissingDependencyError("itsdangerous", "auth") from None
    keys = [_check_key(k, "a fallback secret key") for k in fallbacks]
    keys.append(_check_key(secret_key, "secret_key"))
    return Signer(keys, salt="trivium.sessions", digest_method=hashlib.sha256)


class SessionManager:
    """Load, save and sign server-side sessions (shared by `Sessions` and `SessionMiddleware`).

    Args:
        secret_key: signs the session cookie; at least 32 random characters.
        store: where sessions live (default: a process-local `MemoryStore`; use
            `RedisStore` or `DatabaseStore` when several workers serve the app).
        cookie_name: the cookie's name.
        max_age: seconds a session lives after its last change (cookie and store).
        same_site: the cookie's `SameSite`: `"lax"`, `"strict"` or `"none"` (a string;
            Python's `None` is refused, not taken for `SameSite=None`).
        secure: send the cookie over HTTPS only; `None` decides per request (Secure
            when the request came over https).
        http_only: hide the cookie from JavaScript.
        path: the cookie's `Path`.
        domain: the cookie's `Domain` (`None`: this host only).
        fallback_secret_keys: older keys still accepted when reading cookies, for key
            rotation; new cookies are signed with `secret_key`.
        key_prefix: put before the session id to form the store key.

    Raises:
        ConfigurationError: a weak or missing secret key (`session-secret-key`) or an
            invalid cookie option (`session-cookie`).
    """

    __slots__ = (
        "_writes",
        "attributes",
        "cookie_name",
        "key_prefix",
        "max_age",
        "name_bytes",
        "secure",
        "signer",
        "store",
    )

    def __init__(  # noqa: PLR0913 - one option per cookie attribute, as Starlette's has
        self,
        *,
        secret_key: str | None = None,
        store: Store | None = None,
        cookie_name: str = "session",
        max_age: int = 14 * 24 * 3600,
        same_site: str = "lax",
        secure: bool | None = None,
        http_only: bool = True,
        path: str = "/",
        domain: str | None = None,
        fallback_secret_keys: Sequence[str] = (),
        key_prefix: str = "session:",
    ) -> None:
        self.signer = _signer(secret_key, fallback_secret_keys)
        # Only strings: Python's `None` is not the cookie attribute `SameSite=None`.
        site = _SAME_SITE.get(same_site.lower()) if isinstance(same_site, str) else None
        if site is None:
            raise _cookie_error(
                f"same_site must be 'lax', 'strict' or 'none' (a string), not {same_site!r}"
            )
        if site == "None" and secure is False:
            raise _cookie_error("same_site='none' needs a Secure cookie: drop secure=False")
        if not isinstance(cookie_name, str) or not _COOKIE_NAME.match(cookie_name):
            raise _cookie_error(f"cookie_name {cookie_name!r} is not a valid cookie name")
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 1:
            raise _cookie_error(f"max_age must be a positive number of seconds, not {max_age!r}")
        for label, value in (("path", path), ("domain", domain or "")):
            if any(c in value for c in ";,\r\n\0 "):
                raise _cookie_error(f"{label} {value!r} must not contain ';', ',' or spaces")
        self.store: Store = MemoryStore() if store is None else store
        """Where the sessions live."""
        self.cookie_name = cookie_name
        """The session cookie's name."""
        self.name_bytes = cookie_name.encode()
        self.max_age = max_age
        """Default lifetime of a session, in seconds."""
        self.secure = secure
        """Cookie `Secure` flag (`None`: per request, from the scheme)."""
        self.key_prefix = key_prefix
        """Put before the session id to form the store key."""
        self._writes: ExistingWrites | None = None
        self.attributes: tuple[str, str | None, bool, SameSite] = (
            path,
            domain or None,
            http_only,
            site.lower(),  # type: ignore[assignment]
        )

    @property
    def secret_key(self) -> str:
        """The key new cookies are signed with (`trivium check --deploy` checks it)."""
        return self.signer.secret_keys[-1].decode("utf-8")

    def secure_for(self, scope: Scope) -> bool:
        """Whether the cookie gets `Secure` for this request (the option, else the scheme)."""
        return self.secure if self.secure is not None else scope.get("scheme") == "https"

    async def load(self, cookie: str | None) -> Session:
        """Return the session a cookie value points to, or a new one (no cookie, invalid).

        Without a cookie the store is not touched. The session records whether the
        request carried the cookie (`Session.from_cookie`): CSRF protection reads it.
        """
        if cookie is None:
            return Session()
        session_id = self.unsign(cookie)
        if session_id is None:
            return Session(from_cookie=True)
        raw = await self.store.get(self.key_prefix + session_id)
        if raw is None:
            return Session(from_cookie=True)
        try:
            payload = orjson.loads(raw)
            data, expiry = payload["data"], payload.get("expiry")
        except (orjson.JSONDecodeError, TypeError, KeyError):
            return Session(from_cookie=True)
        if not isinstance(data, dict):
            return Session(from_cookie=True)
        expiry = expiry if isinstance(expiry, int) else None
        return Session(data, id=session_id, expiry=expiry, from_cookie=True)

    def cookie_of(self, cookies: Mapping[str, str]) -> str | None:
        """Return the session cookie's value among a request's `cookies`, if any."""
        return cookies.get(self.cookie_name)

    def add_headers(
        self, headers: list[tuple[bytes, bytes]], session: Session, cookie: str | None
    ) -> None:
        """Add `Set-Cookie` (when `cookie`) and `Vary: Cookie` for `session` to `headers`."""
        if cookie is None and not session.from_cookie:
            return
        if cookie is not None:
            headers.append((b"set-cookie", cookie.encode("latin-1")))
        # The answer may depend on the session: shared caches must key it by the cookie,
        # never hand one client's page to another.
        vary_on_cookie(headers)

    async def save_after_websocket(self, session: Session) -> None:
        """Save changes a websocket handler made to an existing session.

        No cookie can be set over a websocket: a new or re-keyed session cannot reach
        the client and is dropped.
        """
        existing = session.modified and not session.is_new and not session.previous_ids
        if existing and not await self._save(session, existing=True):
            _interrupted(session)

    def unsign(self, cookie: str) -> str | None:
        """Return the session id of a signed cookie value, or `None` if the signature is bad."""
        from itsdangerous import BadSignature

        try:
            return self.signer.unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    @staticmethod
    def nothing_to_commit(session: Session) -> bool:
        """Whether `commit` has nothing to do for `session`: no store access, no cookie.

        That is an unchanged session, or a new, empty one the request came without a
        cookie for (the usual anonymous request).
        """
        return (
            not session.modified
            and not session.previous_ids
            and (bool(session) or (session.is_new and not session.from_cookie))
        )

    async def commit(self, session: Session, *, secure: bool) -> str | None:
        """Save, re-key or delete `session` in the store; return the `Set-Cookie` value to send.

        A session that was loaded from the store and has been deleted there since (by
        a logout, a rotation or a flush in another request) is not saved again, and no
        cookie is sent: `None`.
        """
        if self.nothing_to_commit(session):
            return None
        had_cookie = session.from_cookie
        loaded = not session.is_new
        still_stored = True
        if loaded and session.previous_ids:
            # The id the client came with is no longer valid: no fixation, no replay.
            old_key = self.key_prefix + session.previous_ids[0]
            still_stored = await self._existing_writes().take(old_key)
        if not session:
            if loaded and not session.previous_ids:
                await self.store.delete(self.key_prefix + session.id)
            if had_cookie:
                return self._cookie("", secure, max_age=0, expires=0)
            return None
        if not session.modified:
            return None
        existing = loaded and not session.previous_ids
        if not (still_stored and await self._save(session, existing=existing)):
            _interrupted(session)
            return None
        value = self.signer.sign(session.id).decode("ascii")
        max_age = None if session.expiry == 0 else session.expiry or self.max_age
        return self._cookie(value, secure, max_age=max_age)

    def _cookie(
        self, value: str, secure: bool, *, max_age: int | None, expires: int | None = None
    ) -> str:
        path, domain, http_only, same_site = self.attributes
        return format_set_cookie(
            self.cookie_name,
            value,
            max_age=max_age,
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=http_only,
            samesite=same_site,
        )

    def _existing_writes(self) -> ExistingWrites:
        """The store's writes that only overwrite or delete keys still there."""
        writes = self._writes
        if writes is None or writes.store is not self.store:
            writes = self._writes = existing_writes(self.store)
        return writes

    async def _save(self, session: Session, *, existing: bool) -> bool:
        """Write `session`; an `existing` one only if still stored. Return whether written."""
        payload: dict[str, Any] = {"data": session.to_dict()}
        if session.expiry is not None:
            payload["expiry"] = session.expiry
        try:
            raw = orjson.dumps(payload)
        except TypeError as exc:
            raise TypeError(f"session values must be JSON-serializable: {exc}") from None
        key, ttl = self.key_prefix + session.id, session.expiry or self.max_age
        if existing:
            return await self._existing_writes().replace(key, raw, ttl)
        await self.store.set(key, raw, ttl)
        return True


def _interrupted(session: Session) -> None:
    logger.info(
        "session %s… was deleted or re-keyed by another request while this one ran "
        "(a logout, say): its changes are not saved and no cookie is sent",
        session.id[:6],
    )


def _cookie_error(message: str) -> ConfigurationError:
    return ConfigurationError(message, "session-cookie")


def vary_on_cookie(headers: list[tuple[bytes, bytes]]) -> None:
    """Add `Cookie` to the response's `Vary` header (once, merged with what is there)."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            fields = {part.strip().lower() for part in value.split(b",")}
            if b"cookie" not in fields and b"*" not in fields:
                headers[index] = (name, value + b", Cookie")
            return
    headers.append((b"vary", b"Cookie"))
