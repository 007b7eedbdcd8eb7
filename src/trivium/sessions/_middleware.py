"""`SessionMiddleware`: server-side sessions keyed by a signed random id in a cookie.

The cookie carries nothing but the session id, signed with the app's secret key
(itsdangerous, HMAC-SHA256), so a client can neither read the data nor guess or forge
an id; a cookie that fails verification is treated as no cookie, never as an error. The
data is JSON in a `Store` under `session:<id>`, living `max_age` seconds.

Per request: no cookie means no store access at all; a cookie means one `get` before the
app runs. When the response starts, the session is saved only if it changed; a rotated
or flushed session's old id is deleted; an emptied session expires the cookie.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import orjson

from trivium.errors import ConfigurationError
from trivium.errors import MissingDependencyError
from trivium.sessions._session import Session
from trivium.stores import MemoryStore
from trivium.stores import Store
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from itsdangerous import Signer

__all__ = ["MIN_SECRET_KEY_LENGTH", "SessionMiddleware"]

MIN_SECRET_KEY_LENGTH = 32
"""Shortest secret key accepted, in characters."""
_SAME_SITE = {"lax": "Lax", "strict": "Strict", "none": "None"}
_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_EXPIRED = "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"


def _check_key(key: object, what: str) -> str:
    if not isinstance(key, str) or len(key) < MIN_SECRET_KEY_LENGTH:
        shown = "an empty key" if not key else f"a key of {len(str(key))} characters"
        raise ConfigurationError(
            f"{what} must be a random string of at least {MIN_SECRET_KEY_LENGTH} characters, "
            f"not {shown}; generate one with: python -c "
            '"import secrets; print(secrets.token_urlsafe(48))"',
            "session-secret-key",
        )
    return key


def _signer(secret_key: str, fallbacks: Sequence[str]) -> Signer:
    try:
        from itsdangerous import Signer
    except ImportError:  # pragma: no cover - installed in the test environment
        raise MissingDependencyError("itsdangerous", "auth") from None
    keys = [_check_key(k, "a fallback secret key") for k in fallbacks]
    keys.append(_check_key(secret_key, "secret_key"))
    return Signer(keys, salt="trivium.sessions", digest_method=hashlib.sha256)


def _cookie_value(scope: Scope, name: bytes) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key != b"cookie":
            continue
        for part in value.split(b";"):
            k, sep, v = part.partition(b"=")
            if sep and k.strip() == name:
                return v.strip().strip(b'"').decode("latin-1")
    return None


class SessionMiddleware:
    """Give every request a `request.session` kept server-side in a `Store`.

    ```python
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, store=store)
    ```

    Args:
        app: the ASGI app to wrap.
        secret_key: signs the session cookie; at least 32 random characters.
        store: where sessions live (default: a process-local `MemoryStore`; use
            `RedisStore` or `DatabaseStore` when several workers serve the app).
        cookie_name: the cookie's name.
        max_age: seconds a session lives after its last change (cookie and store).
        same_site: the cookie's `SameSite`: `"lax"`, `"strict"` or `"none"`.
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
        "app",
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
        app: ASGIApp,
        *,
        secret_key: str,
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
        site = _SAME_SITE.get(str(same_site).lower())
        if site is None:
            raise _cookie_error(f"same_site must be 'lax', 'strict' or 'none', not {same_site!r}")
        if site == "None" and secure is False:
            raise _cookie_error("same_site='none' needs a Secure cookie: drop secure=False")
        if not isinstance(cookie_name, str) or not _COOKIE_NAME.match(cookie_name):
            raise _cookie_error(f"cookie_name {cookie_name!r} is not a valid cookie name")
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 1:
            raise _cookie_error(f"max_age must be a positive number of seconds, not {max_age!r}")
        for label, value in (("path", path), ("domain", domain or "")):
            if any(c in value for c in ";,\r\n\0 "):
                raise _cookie_error(f"{label} {value!r} must not contain ';', ',' or spaces")
        self.app = app
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
        attributes = f"Path={path}"
        if domain:
            attributes += f"; Domain={domain}"
        if http_only:
            attributes += "; HttpOnly"
        self.attributes = f"{attributes}; SameSite={site}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Load the session, run the app, and save the session as the response starts."""
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = _cookie_value(scope, self.name_bytes)
        session = await self.load(raw) if raw else Session()
        scope["session"] = session
        if kind == "websocket":
            await self.app(scope, receive, send)
            # No cookie can be set over a websocket: changes to an existing session
            # are saved, a new or re-keyed one cannot reach the client and is dropped.
            if session.modified and not session.is_new and not session.previous_ids:
                await self._save(session)
            return
        secure = self.secure if self.secure is not None else scope.get("scheme") == "https"
        had_cookie = raw is not None

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await self.commit(session, had_cookie=had_cookie, secure=secure)
                if cookie is not None or had_cookie:
                    headers = list(message.get("headers", ()))
                    if cookie is not None:
                        headers.append((b"set-cookie", cookie.encode("latin-1")))
                    # The answer may depend on the session: shared caches must key it by
                    # the cookie, never hand one client's page to another.
                    _vary_on_cookie(headers)
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def load(self, cookie: str) -> Session:
        """Return the session a cookie value points to, or a new one when it is invalid."""
        session_id = self.unsign(cookie)
        if session_id is None:
            return Session()
        raw = await self.store.get(self.key_prefix + session_id)
        if raw is None:
            return Session()
        try:
            payload = orjson.loads(raw)
            data, expiry = payload["data"], payload.get("expiry")
        except (orjson.JSONDecodeError, TypeError, KeyError):
            return Session()
        if not isinstance(data, dict):
            return Session()
        return Session(data, id=session_id, expiry=expiry if isinstance(expiry, int) else None)

    def unsign(self, cookie: str) -> str | None:
        """Return the session id of a signed cookie value, or `None` if the signature is bad."""
        from itsdangerous import BadSignature

        try:
            return self.signer.unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    async def commit(self, session: Session, *, had_cookie: bool, secure: bool) -> str | None:
        """Save, re-key or delete `session` in the store; return the `Set-Cookie` value to send."""
        if not session.is_new and session.previous_ids:
            # The id the client came with is no longer valid: no fixation, no replay.
            await self.store.delete(self.key_prefix + session.previous_ids[0])
        if not session:
            if not session.is_new and not session.previous_ids:
                await self.store.delete(self.key_prefix + session.id)
            if had_cookie:
                return f"{self.cookie_name}=; {_EXPIRED}; {self._attributes(secure)}"
            return None
        if not session.modified:
            return None
        await self._save(session)
        value = self.signer.sign(session.id).decode("ascii")
        cookie = f"{self.cookie_name}={value}; {self._attributes(secure)}"
        if session.expiry != 0:
            cookie += f"; Max-Age={session.expiry or self.max_age}"
        return cookie

    def _attributes(self, secure: bool) -> str:
        return f"{self.attributes}; Secure" if secure else self.attributes

    async def _save(self, session: Session) -> None:
        payload: dict[str, Any] = {"data": session.to_dict()}
        if session.expiry is not None:
            payload["expiry"] = session.expiry
        try:
            raw = orjson.dumps(payload)
        except TypeError as exc:
            raise TypeError(f"session values must be JSON-serializable: {exc}") from None
        await self.store.set(self.key_prefix + session.id, raw, session.expiry or self.max_age)


def _cookie_error(message: str) -> ConfigurationError:
    return ConfigurationError(message, "session-cookie")


def _vary_on_cookie(headers: list[tuple[bytes, bytes]]) -> None:
    """Add `Cookie` to the response's `Vary` header (once, merged with what is there)."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            fields = {part.strip().lower() for part in value.split(b",")}
            if b"cookie" not in fields and b"*" not in fields:
                headers[index] = (name, value + b", Cookie")
            return
    headers.append((b"vary", b"Cookie"))
