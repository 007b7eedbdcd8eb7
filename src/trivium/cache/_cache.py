"""`Cache`: values and whole responses kept in a `Store`, recomputed once per key.

Every entry is an envelope in the store: the value (or the response), when it stops
being fresh, and the versions of its tags. It is kept `stale` seconds longer than its
`ttl`, so that while one caller recomputes an expired entry the others get the stale
copy instead of all recomputing it together (a stampede). A missing entry is computed
by the one caller that takes the key's lock (`Store.incr` on a lock key, atomic on every
backend, expiring by itself if its holder dies); the others wait for the value for up to
`wait` seconds, or until the lock is released without one (the computation failed or
its result was not kept), then compute it themselves.

Tags are counters in the store: `invalidate(tags=[...])` increments them, and an entry
saved under an older version of one of its tags reads as missing.

Each kind of key has a namespace of its own after the prefix, so no user key can name
a tag counter, a lock or a response: `k:KEY` (values), `r:DIGEST` (responses),
`t:TAG` (tag counters) and `l:` followed by the key of the entry locked (`l:k:KEY`).

A store outage (Redis down) never fails a read or a write: the cache is bypassed and the
store logs the outage once. Removals (`delete`, `invalidate`) raise instead: dropped
silently, they would leave a stale entry to be served once the store is back.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import string
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import ParamSpec
from typing import TypeVar

import orjson

from trivium.cache._values import cache_key_of
from trivium.cache._values import default_name
from trivium.cache._values import encode
from trivium.errors import ConfigurationError
from trivium.errors import GatewayTimeout
from trivium.errors import ServiceUnavailable
from trivium.stores import MemoryStore
from trivium.stores import Store

STORE_DOWN: tuple[type[Exception], ...] = (ServiceUnavailable, GatewayTimeout)
"""What a store that is down raises: Redis' `StoreUnavailableError` (a 503), and the
database's `DatabaseUnavailableError` (503) or `DatabaseTimeoutError` (504) for a
`DatabaseStore`. Reads and fills catch these and go on without the cache."""

PROBE_EVERY = 1.0
"""Seconds between the calls that try a store known to be down (the others skip it).

Counted from the end of the last failed call: a probe waiting out a stalled Redis's
timeout holds the others off until it is over."""

_PROBE_LIMIT = 30.0  # how long a probe that never reports back holds the others off

__all__ = [
    "PROBE_EVERY",
    "RESPONSE",
    "STORE_DOWN",
    "VALUE",
    "CacheCore",
    "cache_key_of",
    "check_async",
    "check_key",
    "default_name",
    "encode",
]

logger = logging.getLogger("trivium.cache")

P = ParamSpec("P")
R = TypeVar("R")

_POLL = 0.02  # seconds between looks for a value another caller is computing
T = TypeVar("T")
_TAG_TTL = 366 * 24 * 3600.0  # tag counters outlive every entry

VALUE = "k:"
"""The namespace of values' entries (`cache.set(key, ...)`), after the prefix."""
RESPONSE = "r:"
"""The namespace of cached responses' entries."""
_TAG = "t:"
_LOCK = "l:"


def _seconds(name: str, value: Any, *, zero: bool = False) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value < 0
        or (value == 0 and not zero)
    ):
        kind = "a number of seconds, 0 or more" if zero else "a positive number of seconds"
        raise ConfigurationError(f"cache option {name}={value!r} must be {kind}", "cache-option")
    return float(value)


def _tags(tags: Iterable[str] | str) -> tuple[str, ...]:
    """Return `tags` as a tuple: one string is one tag (as `vary=` takes one header)."""
    if isinstance(tags, str):
        found: tuple[Any, ...] = (tags,)
    elif isinstance(tags, Iterable) and not isinstance(tags, bytes | bytearray | Mapping):
        found = tuple(tags)
    else:
        raise ConfigurationError(
            f"cache option tags={tags!r} must be a tag (a string) or a list of tags",
            "cache-option",
        )
    for tag in found:
        if not isinstance(tag, str) or not tag:
            raise ConfigurationError(
                f"cache tags are non-empty strings, not {tag!r}", "cache-option"
            )
    return found


def _called_key(key: Callable[..., Any], func: Callable[..., Any], args: Any, kwargs: Any) -> str:
    """Return the string `key(*args, **kwargs)` names a call of `func` by.

    Raises:
        TypeError: the key function returned something other than a string.
    """
    name = key(*args, **kwargs)
    if not isinstance(name, str):
        raise TypeError(
            f"@cached(key={getattr(key, '__qualname__', key)!r}) on "
            f"{getattr(func, '__qualname__', func)}: the key function returned "
            f"{type(name).__qualname__} {name!r}; make it return a string "
            '(for example f"item:{item_id}")'
        )
    return name


def check_key(func: Callable[..., Any], key: Any) -> None:
    """Refuse a `key=` template naming something other than the function's parameters."""
    if not isinstance(key, str):
        return
    name = getattr(func, "__qualname__", repr(func))
    parameters = inspect.signature(func).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(key) if field is not None]
    except ValueError as exc:
        problem = f"is not a format string ({exc})"
    else:
        roots = [field.split(".", 1)[0].split("[", 1)[0] for field in fields]
        unknown = [root for root in roots if root not in parameters and not takes_any]
        unknown += [root for root in roots if not root.isidentifier()]
        problem = f"names {unknown[0]!r}, which is not a parameter" if unknown else ""
    if problem:
        raise ConfigurationError(
            f"@cached(key={key!r}) on {name}: the template {problem}; name the "
            f"function's parameters in braces ({', '.join(parameters) or 'it has none'})",
            "cache-option",
        )


def _redis_store(url: str) -> Store:
    from trivium.stores import RedisStore

    try:
        return RedisStore(url)
    except ValueError as exc:  # redis-py's word on a URL it can't use
        raise ConfigurationError(
            f"Cache(store={url!r}) is not a Redis URL (redis://, rediss:// or unix://): {exc}",
            "cache-store",
        ) from None


def check_async(func: Callable[..., Any]) -> None:
    """Refuse a function `@cached` can't await (`cache-option`)."""
    if not inspect.iscoroutinefunction(func):
        name = getattr(func, "__qualname__", repr(func))
        raise ConfigurationError(
            f"@cached takes an async function; {name} is not one", "cache-option"
        )


class CacheCore:
    """The store side of `Cache`: envelopes, locks, tags (see the module docstring)."""

    def __init__(
        self,
        store: Store | str | None = None,
        *,
        prefix: str = "cache:",
        ttl: float = 300,
        stale: float = 30,
        wait: float = 5,
    ) -> None:
        self.owns_store = isinstance(store, str)
        """Whether the store was made from a URL here (and is closed at shutdown)."""
        if isinstance(store, str):
            store = _redis_store(store)
        if store is not None and not isinstance(store, Store):
            raise ConfigurationError(
                f"Cache(store=...) takes a trivium.stores store (MemoryStore, RedisStore, "
                f"DatabaseStore), not {type(store).__name__}",
                "cache-store",
            )
        if not isinstance(prefix, str):
            raise ConfigurationError(f"Cache(prefix={prefix!r}) must be a string", "cache-option")
        self.store: Store = store if store is not None else MemoryStore()
        """Where entries live: shared by every process with Redis or a database."""
        self.prefix = prefix
        """Put before every key (after the store's own prefix)."""
        self.ttl = _seconds("ttl", ttl)
        """Seconds an entry stays fresh, unless a call says otherwise."""
        self.stale = _seconds("stale", stale, zero=True)
        """Seconds an expired entry is still served while one caller recomputes it."""
        self.wait = _seconds("wait", wait, zero=True)
        """Longest time a caller waits for a value another caller is computing."""
        self._probe_at = 0.0  # during an outage, when the next call may try the store

    # Outages ------------------------------------------------------------------------

    def bypassed(self) -> bool:
        """Whether to skip the store: it is known to be down, and another call probes it.

        During an outage one call per `PROBE_EVERY` seconds tries the store; the others
        go without it at once, so a stalled Redis costs a request nothing but the probe's
        own wait (a `get_or_set` makes several store calls: only its first may wait).
        """
        outage = getattr(self.store, "outage", None)
        if outage is None or outage.down_since is None:
            return False
        now = time.monotonic()
        if now >= self._probe_at:
            # No other call probes while this one waits: the next probe time is set when
            # it fails (`_failed`), a bound only in case it ends without a word.
            self._probe_at = now + PROBE_EVERY + _PROBE_LIMIT
            return False
        return True

    def _failed(self) -> None:
        """Note a store call that failed: the next probe waits `PROBE_EVERY` from now."""
        self._probe_at = time.monotonic() + PROBE_EVERY

    # Raw envelopes -------------------------------------------------------------------
    # `key` is an entry's key in its namespace (`VALUE` or `RESPONSE` and the name).

    async def read_raw(self, key: str) -> bytes | None:
        if self.bypassed():
            return None
        try:
            return await self.store.get(self.prefix + key)
        except STORE_DOWN:
            self._failed()
            return None

    async def write_raw(self, key: str, data: bytes, ttl: float) -> None:
        if self.bypassed():
            return
        try:
            await self.store.set(self.prefix + key, data, ttl=ttl + self.stale)
        except STORE_DOWN:
            self._failed()
            return

    async def tag_versions(self, tags: Sequence[str]) -> dict[str, int]:
        """Return the current version of each tag (0 for a tag never invalidated).

        Raises:
            ServiceUnavailable: the store is down (or skipped while it is).
        """
        if tags and self.bypassed():
            raise ServiceUnavailable("the cache store is down", retry_after=None)
        versions = {}
        try:
            for tag in tags:
                raw = await self.store.get(f"{self.prefix}{_TAG}{tag}")
                versions[tag] = int(raw) if raw else 0
        except STORE_DOWN:
            self._failed()
            raise
        return versions

    async def versions_current(self, versions: dict[str, int]) -> bool:
        if not versions:
            return True
        try:
            return await self.tag_versions(list(versions)) == versions
        except STORE_DOWN:
            return False

    async def lock(self, key: str) -> bool:
        """Take the key's recomputation lock; `False` when another caller holds it."""
        ttl = max(self.wait, 1.0) * 2
        if self.bypassed():
            return True  # no store: everyone computes, as without a cache
        try:
            return await self.store.incr(f"{self.prefix}{_LOCK}{key}", ttl) == 1
        except STORE_DOWN:
            self._failed()
            return True  # no store: everyone computes, as without a cache

    async def lock_held(self, key: str) -> bool:
        """Return whether a caller holds the key's lock (`False` when the store is down)."""
        if self.bypassed():
            return False
        try:
            return await self.store.get(f"{self.prefix}{_LOCK}{key}") is not None
        except STORE_DOWN:
            self._failed()
            return False

    async def await_entry(self, key: str, read: Callable[[str], Awaitable[T | None]]) -> T | None:
        """Wait for the entry another caller is computing; `None` if none comes.

        Gives up after `wait` seconds, or as soon as the lock is released without an
        entry (the computation failed, or its result was not kept): the caller then
        computes the value itself instead of sleeping for nothing.
        """
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline:
            await asyncio.sleep(_POLL)
            entry = await read(key)
            if entry is not None:
                return entry
            if not await self.lock_held(key):
                # An entry is written before its lock is released: look once more.
                return await read(key)
        return None

    async def unlock(self, key: str) -> None:
        """Release the key's lock."""
        if self.bypassed():
            return  # it expires on its own
        try:
            await self.store.delete(f"{self.prefix}{_LOCK}{key}")
        except STORE_DOWN:
            self._failed()
            return

    # Values ---------------------------------------------------------------------------

    def _pack(self, value: bytes, ttl: float, versions: dict[str, int]) -> bytes:
        """Return the envelope of an `encode`d value."""
        rest = orjson.dumps({"f": time.time() + ttl, "t": versions})
        return b'{"v":' + value + b"," + rest[1:]

    async def _entry(self, key: str) -> tuple[bool, Any] | None:
        """Return `(fresh, value)` of the key's entry, or `None` when there is none."""
        raw = await self.read_raw(key)
        if raw is None:
            return None
        envelope = orjson.loads(raw)
        if not await self.versions_current(envelope["t"]):
            return None
        return time.time() < envelope["f"], envelope["v"]

    async def get(self, key: str, default: Any = None) -> Any:
        """Return the value under `key`, or `default` when missing or past its `ttl`.

        An expired entry kept for its `stale` seconds is only for `get_or_set`, which
        serves it while one caller recomputes it.
        """
        entry = await self._entry(VALUE + key)
        return entry[1] if entry is not None and entry[0] else default

    async def set(
        self, key: str, value: Any, ttl: float | None = None, tags: Iterable[str] | str = ()
    ) -> None:
        """Keep `value` (anything JSON can encode) under `key` for `ttl` seconds.

        Raises:
            TypeError: JSON cannot encode `value`.
            ValueError: `value` holds NaN or Infinity (JSON has no such numbers).
        """
        seconds = self.ttl if ttl is None else _seconds("ttl", ttl)
        tag_list = _tags(tags)
        data = encode(value)
        try:
            versions = await self.tag_versions(tag_list)
        except STORE_DOWN:
            return
        await self.write_raw(VALUE + key, self._pack(data, seconds, versions), seconds)

    async def delete(self, key: str) -> None:
        """Forget `key`.

        Raises:
            ServiceUnavailable: the store is down (a 503 in a request): the entry may
                still be there when it is back, so the caller must know.
        """
        await self.store.delete(self.prefix + VALUE + key)

    async def invalidate(self, tags: Iterable[str] | str) -> None:
        """Make every entry saved under one of `tags` read as missing, in every process.

        Raises:
            ServiceUnavailable: the store is down (a 503 in a request): the entries
                may still read as current when it is back, so the caller must know.
        """
        for tag in _tags(tags):
            await self.store.incr(f"{self.prefix}{_TAG}{tag}", _TAG_TTL)

    async def get_or_set(
        self,
        key: str,
        compute: Callable[[], Awaitable[Any]],
        ttl: float | None = None,
        tags: Iterable[str] | str = (),
    ) -> Any:
        """Return the value under `key`, computing and keeping it when missing or expired.

        One caller per key computes at a time, across processes: while an expired value
        is recomputed the others get it as it was; a missing one they wait for (up to
        `wait` seconds, or until the lock is released without one).

        Raises:
            TypeError: JSON cannot encode the computed value.
            ValueError: it holds NaN or Infinity.
        """
        seconds = self.ttl if ttl is None else _seconds("ttl", ttl)
        tag_list = _tags(tags)
        key = VALUE + key
        entry = await self._entry(key)
        if entry is not None and entry[0]:
            return entry[1]
        if not await self.lock(key):
            if entry is not None:
                return entry[1]  # stale while another caller recomputes
            found = await self.await_entry(key, self._entry)
            if found is not None:
                return found[1]
            return await compute()
        try:
            # Computed by the caller that held the lock just before us? Then it's done.
            again = await self._entry(key)
            if again is not None and again[0]:
                return again[1]
            try:
                versions: dict[str, int] | None = await self.tag_versions(tag_list)
            except STORE_DOWN:
                versions = None
            value = await compute()
            data = encode(value)
            if versions is not None:
                await self.write_raw(key, self._pack(data, seconds, versions), seconds)
            return value
        finally:
            await self.unlock(key)

    def cached(
        self,
        ttl: float | None = None,
        *,
        key: Callable[..., str] | str | None = None,
        tags: Iterable[str] | str = (),
    ) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
        """Cache an async function's results (see `trivium.cache.cached`)."""
        tag_list = _tags(tags)
        seconds = None if ttl is None else _seconds("ttl", ttl)

        def decorate(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
            check_async(func)
            check_key(func, key)
            if key is None:
                default_name(func)  # numbered now, in the order of the definitions
            signature = inspect.signature(func)

            @functools.wraps(func)
            async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                if key is None:
                    bound = signature.bind(*args, **kwargs)
                    bound.apply_defaults()
                    name = cache_key_of(func, (), dict(bound.arguments))
                elif isinstance(key, str):
                    bound = signature.bind(*args, **kwargs)
                    bound.apply_defaults()
                    name = key.format(**bound.arguments)
                else:
                    name = _called_key(key, func, args, kwargs)
                result: R = await self.get_or_set(
                    name, lambda: func(*args, **kwargs), seconds, tag_list
                )
                return result

            return wrapper

        return decorate
