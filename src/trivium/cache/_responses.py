"""Response caching and ETags, as request steps compiled into the routes that use them.

`CacheRule` on a route (`@app.get(path, cache=CacheRule(60))`) gives it a `ResponseStep`:

- It is the last of the route's steps: rate limits, authentication and every other
  check run first, on hits too, and their `after` hooks write this request's headers
  (`RateLimit-*`, `Set-Cookie`) on the answer after the cache made or replayed its
  entry, so no such header is ever stored.
- `before` looks the request up (GET and HEAD only) by route, scheme, host, path, query
  and the rule's `vary` headers; when the route's responses had a `Vary` of their own,
  the entry there names those headers, and the request's values of them select the
  entry (`_varied`). A fresh entry answers at once: the handler, its
  dependencies and its parameters are skipped. A request with credentials (the session
  cookie, an `Authorization` header) never shares an entry: with `private=True` an
  authenticated user gets entries of their own (keyed by the user `trivium.auth`
  found), else the cache is bypassed. `Cache-Control: no-cache` (or `max-age=0`)
  recomputes, `no-store` bypasses. On a miss it reads the tags' versions, before the
  handler runs.
- `after` prepares the entry of a `200` that has no `Set-Cookie`, no `Cache-Control:
  no-store`, `no-cache` or lifetime of 0 (nor `private`, unless the rule is private), no
  `Vary: *` and a body known up front, with its `ETag`, under those versions, for the
  rule's `ttl` or the response's shorter `s-maxage`/`max-age`; adds `Cache-Control:
  max-age` when the response has none and merges the rule's `Vary` into the
  response's. `KeepStep` writes it once every step has run, unless the answer then sets
  a cookie or the session was written (`_keep`). A hit carries the entry's `Age`.
- Either way, a request whose `If-None-Match` matches the `ETag` is answered `304`.

`Cache(etag=True)` adds an `ETag` (and the `304`) to every other GET route's plain
responses too.
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import orjson

from trivium.cache._cache import RESPONSE
from trivium.cache._cache import STORE_DOWN
from trivium.cache._cache import CacheCore
from trivium.cache._cache import _seconds
from trivium.cache._cache import _tags
from trivium.cache._keep import PENDING_KEY
from trivium.cache._keep import Pending
from trivium.cache._keep import lifetime
from trivium.errors import ConfigurationError
from trivium.http import Response
from trivium.plugins import RequestStep

if TYPE_CHECKING:
    from trivium.http import HTTPConnection
    from trivium.http import Request

__all__ = ["CacheRule", "CachedResponse", "ETagStep", "ResponseStep"]

HIT_KEY = "trivium.cache.hit"
"""Scope key: the cache answered this request (its `after` must not keep it again)."""
MISS_KEY = "trivium.cache.miss"
"""Scope key: the entry key of a request that missed, and whether this caller holds the lock."""
PERSONAL_KEY = "trivium.cache.personal"
"""Scope key: the request bypassed the cache for its credentials or its user."""
VARY_KEY = "trivium.cache.vary"
"""Scope key: the header names the route's kept responses vary on, found at lookup."""

_SKIPPED_HEADERS = {b"set-cookie", b"date", b"content-length", b"x-request-id", b"age"}


@dataclass(frozen=True, slots=True)
class CacheRule:
    """How a route's responses are cached (`@app.get(path, cache=CacheRule(60))`).

    Args:
        ttl: seconds a response stays fresh (default: the `Cache`'s `ttl`).
        vary: request headers whose values select different entries (`"accept-language"`).
        private: keep entries per authenticated user (`trivium.auth`), instead of
            bypassing the cache for requests that carry credentials.
        tags: tags of the entries, for `cache.invalidate(tags=[...])` (one string is
            one tag).
        skip_dependencies: allow the route (or its routers, or the app) to have
            `dependencies=[...]`, which a hit skips: say so only when none of them is a
            guard (an API-key check, a permission), since a hit serves the page without
            them. Guard cached routes with `trivium.auth`, which runs before the cache.

    Raises:
        ConfigurationError: an option of the wrong kind (`cache-option`).
    """

    ttl: float | None = None
    vary: tuple[str, ...] | str = ()
    private: bool = False
    tags: tuple[str, ...] | str = ()
    skip_dependencies: bool = False

    def __post_init__(self) -> None:
        if self.ttl is not None:
            _seconds("ttl", self.ttl)
        object.__setattr__(self, "vary", _vary(self.vary))
        for name in ("private", "skip_dependencies"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigurationError(
                    f"CacheRule({name}={getattr(self, name)!r}) must be True or False",
                    "cache-option",
                )
        object.__setattr__(self, "tags", _tags(self.tags))


def _vary(vary: Any) -> tuple[str, ...]:
    """Return the rule's `vary` as lowercase header names (one string is one header)."""
    if isinstance(vary, str):
        names: tuple[Any, ...] = (vary,)
    elif isinstance(vary, list | tuple | set | frozenset):
        names = tuple(vary)
    else:
        names = (vary,)
    for name in names:
        if not isinstance(name, str) or not name.strip() or "," in name:
            raise ConfigurationError(
                f"CacheRule(vary={vary!r}) takes a request header's name or a list of "
                f"them, not {name!r}",
                "cache-option",
            )
    return tuple(name.strip().lower() for name in names)


class CachedResponse(Exception):  # noqa: N818 - carries a response, not an error
    """Raised by `ResponseStep.before` to answer from the cache; the app sends `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__("answered from the cache")
        self.response = response


def _etag(body: bytes) -> bytes:
    return b'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def _matches(connection: HTTPConnection, etag: bytes) -> bool:
    wanted = connection.header_value("if-none-match")
    if not wanted:
        return False
    if wanted.strip() == "*":
        return True
    tag = etag.decode("latin-1")
    bare = tag[2:] if tag.startswith("W/") else tag
    for candidate in wanted.split(","):
        item = candidate.strip()
        if item == tag or (item[2:] if item.startswith("W/") else item) == bare:
            return True
    return False


def not_modified(response: Response, etag: bytes) -> None:
    """Turn `response` into a `304` carrying `etag` (its other validators and Vary kept)."""
    response.status_code = 304
    response.body = b""
    response.raw_headers[:] = [
        (name, value)
        for name, value in response.raw_headers
        if name not in (b"content-length", b"content-type", b"etag")
    ]
    response.raw_headers.append((b"etag", etag))


def _cacheable_body(response: Response | None) -> bool:
    return (
        response is not None
        and response.status_code == 200
        and type(response).__call__ is Response.__call__
        and response.background is None
    )


class ETagStep(RequestStep):
    """An `ETag` on plain `200` GET responses, and `304` when `If-None-Match` matches."""

    __slots__ = ()
    order = 600  # after the batteries' steps: their headers are on the response already

    async def after(self, request: Request, response: Response | None) -> None:
        """Add the `ETag`; answer `304` when the client has this version."""
        if (
            response is None
            or not _cacheable_body(response)
            or request.method not in ("GET", "HEAD")
        ):
            return
        etag = next((value for name, value in response.raw_headers if name == b"etag"), None)
        if etag is None:
            etag = _etag(response.body)
            response.raw_headers.append((b"etag", etag))
        if _matches(request, etag):
            not_modified(response, etag)


class ResponseStep(RequestStep):
    """Answer a route's GET requests from the cache, and keep its responses."""

    __slots__ = ("cache_control", "core", "credentials", "path", "rule", "ttl", "vary")
    # Last of a route's steps: every other step's `before` (rate limits, authentication,
    # CSRF, a plugin's checks) runs before a cached answer, and `after` sees the
    # handler's response before any other step adds its per-request headers.
    order = 900

    def __init__(
        self, core: CacheCore, rule: CacheRule, path: str, credentials: tuple[str, ...]
    ) -> None:
        self.core = core
        self.rule = rule
        self.path = path
        self.ttl = core.ttl if rule.ttl is None else float(rule.ttl)
        self.credentials = credentials  # the session cookie's name(s)
        kind = b"private" if rule.private else b"public"
        self.cache_control = kind + b", max-age=" + str(int(self.ttl)).encode()
        """The `Cache-Control` given to kept responses that have none."""
        vary = [name.encode("latin-1") for name in rule.vary]
        # A shared entry is the page of requests without credentials: an HTTP cache in
        # front (a CDN) must not give it to a request with some, nor theirs to others.
        carriers = (b"authorization", b"cookie") if rule.private or credentials else ()
        vary += [name for name in carriers if name not in vary]
        self.vary = tuple(vary)
        """The header names the response's `Vary` must hold."""

    def _key(self, connection: HTTPConnection) -> str | None:
        """Return the request's entry key, or `None` when it must not use the cache."""
        scope = connection.scope
        if scope.get("method") not in ("GET", "HEAD"):
            return None
        control = connection.header_value("cache-control")
        if control is not None and "no-store" in control.lower():
            return None
        parts = [self.path, scope.get("scheme", "http"), _host(connection), scope.get("path")]
        parts.append(scope.get("query_string", b"").decode("latin-1"))
        parts.extend(connection.header_value(name) or "" for name in self.rule.vary)
        user = scope.get("user")
        if getattr(user, "is_authenticated", False):
            identity = _identity(user, scope.get("auth")) if self.rule.private else None
            if identity is None:
                scope[PERSONAL_KEY] = True
                return None
            parts.append(identity)
        elif self._credentialed(connection):
            # Credentials but no user (logged out, no authentication on the route): the
            # page may still depend on them, and must not be another request's.
            scope[PERSONAL_KEY] = True
            return None
        digest = hashlib.sha256(orjson.dumps(parts)).hexdigest()[:40]
        return RESPONSE + digest

    def _credentialed(self, connection: HTTPConnection) -> bool:
        if connection.header_value("authorization"):
            return True
        if not self.credentials:
            return False
        cookies = connection.cookies
        return any(cookies.get(name) for name in self.credentials)

    async def before(self, connection: HTTPConnection) -> None:
        """Answer from a fresh entry; or take the key's lock, or wait for who holds it."""
        key = self._key(connection)
        if key is None:
            return
        control = (connection.header_value("cache-control") or "").lower()
        refresh = "no-cache" in control or "max-age=0" in control
        entry = None if refresh else await self._entry(key, connection)
        if entry is not None and entry[0]:
            self._answer(connection, entry[1])
        locked = await self.core.lock(key)
        if locked and not refresh:
            # Answered by the caller that held the lock just before us?
            again = await self._entry(key, connection)
            if again is not None and again[0]:
                await self.core.unlock(key)
                self._answer(connection, again[1])
        if not locked and not refresh:
            if entry is not None:
                self._answer(connection, entry[1])  # stale while another caller recomputes
            found = await self.core.await_entry(
                key, functools.partial(self._entry, connection=connection)
            )
            if found is not None:
                self._answer(connection, found[1])
        # The tags' versions as they are before the handler reads anything: a response
        # invalidated while it is computed is kept under the old ones, and reads as missing.
        connection.scope[MISS_KEY] = (key, locked, await self._versions())

    async def _versions(self) -> dict[str, int] | None:
        if not self.rule.tags:
            return {}
        try:
            return await self.core.tag_versions(self.rule.tags)
        except STORE_DOWN:
            return None  # keep nothing

    async def _entry(
        self, key: str, connection: HTTPConnection
    ) -> tuple[bool, dict[str, Any]] | None:
        """Return `(fresh, envelope)` of the request's entry, or `None` when it has none.

        Under `key` is the entry, or, when the handler's responses name headers in their
        `Vary`, those names: the entry is then under the key with the request's values
        of these headers (`_varied`), as Django's `learn_cache_key` does.
        """
        envelope = await self._read(key)
        if envelope is not None and "v" in envelope:
            names = envelope["v"]
            connection.scope[VARY_KEY] = names
            envelope = await self._read(_varied(key, names, connection))
        if envelope is None or not await self.core.versions_current(envelope["t"]):
            return None
        return time.time() < envelope["f"], envelope

    async def _read(self, key: str) -> dict[str, Any] | None:
        raw = await self.core.read_raw(key)
        if raw is None:
            return None
        head, _, body = raw.partition(b"\n")
        envelope: dict[str, Any] = orjson.loads(head)
        envelope["b"] = body
        return envelope

    def _answer(self, connection: HTTPConnection, envelope: dict[str, Any]) -> None:
        connection.scope[HIT_KEY] = True
        response = Response(envelope["b"], status_code=envelope["s"])
        response.raw_headers[:] = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in envelope["h"]
        ]
        response.raw_headers.append((b"content-length", str(len(envelope["b"])).encode()))
        if "d" in envelope:  # how long it has been kept (RFC 9111's `Age`)
            age = max(0, int(time.time() - envelope["d"]))
            response.raw_headers.append((b"age", str(age).encode()))
        etag = envelope["e"].encode("latin-1")
        if _matches(connection, etag):
            not_modified(response, etag)
        raise CachedResponse(response)

    async def after(self, request: Request, response: Response | None) -> None:
        """Prepare the entry of a cacheable response (`KeepStep` writes it); answer `304`."""
        scope = request.scope
        if scope.get(HIT_KEY):
            return
        miss = scope.get(MISS_KEY)
        if miss is None:
            if response is not None and scope.get(PERSONAL_KEY):
                _mark_private(response)  # not kept here, nor by a shared cache in front
            return
        key, locked, versions = miss
        handed = False  # whether `KeepStep` releases the lock, once it wrote the entry
        try:
            if response is None or (ttl := self._storable(response)) is None:
                return
            etag = next((v for n, v in response.raw_headers if n == b"etag"), None)
            if etag is None:
                etag = _etag(response.body)
                response.raw_headers.append((b"etag", etag))
            names = self._varies_on(response, scope.get(VARY_KEY))
            added = self._add_headers(response)
            data = None if versions is None else self._entry_data(response, etag, versions, ttl)
            scope[PENDING_KEY] = Pending(self, key, locked, response, data, names, ttl, added)
            handed = True
            if _matches(request, etag):
                not_modified(response, etag)
        finally:
            if locked and not handed:
                await self.core.unlock(key)

    def _storable(self, response: Response) -> float | None:
        """Return how long to keep `response`, or `None` when it is not to be kept."""
        if not _cacheable_body(response):
            return None
        for name, value in response.raw_headers:
            if name == b"set-cookie":
                return None
            if name == b"cache-control":
                if b"private" in value.lower() and not self.rule.private:
                    return None
            # `Vary: *`: the response differs by more than headers; no key tells which.
            elif name == b"vary" and any(item.strip() == b"*" for item in value.split(b",")):
                return None
        return lifetime(response, self.ttl)

    def _varies_on(self, response: Response, learned: list[str] | None) -> list[str]:
        """Return the headers the kept response varies on beyond the rule's `vary`.

        The handler's `Vary`, and those earlier responses of the route varied on: once
        a page differs per a header, it is never kept for every value of it.
        """
        names = set(learned or ())
        for name, value in response.raw_headers:
            if name == b"vary":
                names.update(item.strip().decode("latin-1").lower() for item in value.split(b","))
        names.difference_update(self.rule.vary)
        names.discard("")
        return sorted(names)

    def _add_headers(self, response: Response) -> bool:
        """Add `Cache-Control` (when it has none: say whether) and `Vary` to `response`."""
        raw = response.raw_headers
        names = {name for name, _ in raw}
        added = b"cache-control" not in names
        if added:
            raw.append((b"cache-control", self.cache_control))
        if not self.vary:
            return added
        if b"vary" not in names:
            raw.append((b"vary", b", ".join(self.vary)))
            return added
        # The handler's own `Vary` too: one header holding both, each name once.
        merged: list[bytes] = []
        seen: set[bytes] = set()
        for name, value in raw:
            if name == b"vary":
                for item in value.split(b","):
                    field = item.strip()
                    if field and field.lower() not in seen:
                        seen.add(field.lower())
                        merged.append(field)
        if b"*" in seen:
            return added  # varies on everything already
        merged += [name for name in self.vary if name not in seen]
        response.headers["vary"] = b", ".join(merged).decode("latin-1")
        return added

    def _entry_data(
        self, response: Response, etag: bytes, versions: dict[str, int], ttl: float
    ) -> bytes:
        """Return the entry of `response`: a JSON head (status, headers, ...) and the body."""
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.raw_headers
            if name not in _SKIPPED_HEADERS
        ]
        now = time.time()
        head = orjson.dumps(
            {
                "s": response.status_code,
                "h": headers,
                "e": etag.decode("latin-1"),
                "t": versions,
                "f": now + ttl,
                "d": now,
            }
        )
        return head + b"\n" + response.body

    async def write(
        self, key: str, data: bytes, names: list[str], ttl: float, connection: HTTPConnection
    ) -> None:
        """Write an entry made by `_entry_data` under the request's key (see `_entry`)."""
        if not names:
            await self.core.write_raw(key, data, ttl)
            return
        # The entry first: a request that finds the names finds its entry too.
        varied = _varied(key, names, connection)
        await self.core.write_raw(varied, data, ttl)
        await self.core.write_raw(key, orjson.dumps({"v": names}), ttl)


def _varied(key: str, names: list[str], connection: HTTPConnection) -> str:
    """Return the key of the entry for the request's values of the headers `names`."""
    parts = [key, *names]
    parts.extend(connection.header_value(name) or "" for name in names)
    digest = hashlib.sha256(orjson.dumps(parts)).hexdigest()[:40]
    return RESPONSE + digest


def _mark_private(response: Response) -> None:
    if not any(name == b"cache-control" for name, _ in response.raw_headers):
        response.raw_headers.append((b"cache-control", b"private"))


def _host(connection: HTTPConnection) -> str:
    """The host the request was sent to, as its URL (and `url_for`) sees it."""
    host = connection.header_value("host")
    if host is not None:
        return host.lower()
    server = connection.scope.get("server")
    return f"{server[0]}:{server[1]}" if server else ""


def _identity(user: Any, auth: Any) -> str | None:
    """Who an authenticated request is, for its private entries: the user and its scopes."""
    ident = getattr(user, "id", None)
    if ident is None:
        ident = getattr(user, "pk", None) or getattr(user, "username", None)
        if ident is None:
            return None  # no way to tell this user from another: no entry
    scopes = getattr(auth, "scopes", None)
    granted = "*" if scopes is None else " ".join(sorted(scopes))
    return f"{type(user).__qualname__}:{ident}|{granted}"


def check_rule(value: Any, path: str) -> CacheRule:
    """Return the route's `cache=` option as a `CacheRule`.

    Raises:
        ConfigurationError: not a `CacheRule` or a number of seconds (`cache-option`).
    """
    if isinstance(value, CacheRule):
        return value
    if not isinstance(value, bool) and isinstance(value, int | float):
        return CacheRule(ttl=value)
    raise ConfigurationError(
        f"route {path!r}: cache= takes CacheRule(ttl, vary=..., private=...) or a number of "
        f"seconds, not {value!r}",
        "cache-option",
    )
