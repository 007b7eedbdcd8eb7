"""The `Store` protocol every key/value backend implements, and its shared checks.

A store keeps bytes under string keys, each with an optional time to live. Sessions,
throttles and caches are written against the protocol only, so the same code runs on the
process-local `MemoryStore` in development and on Redis or a database table in
production, where every worker process (on every host) sees the same data.
"""

from __future__ import annotations

import logging
import math
from typing import Protocol
from typing import runtime_checkable

from trivium.errors import ConfigurationError
from trivium.errors import OutageLog
from trivium.errors import ServiceUnavailable

__all__ = ["Store", "StoreOutage", "StoreUnavailableError", "check_ttl", "check_value"]

logger = logging.getLogger("trivium.stores")

RETRY_AFTER = 5
"""Seconds a client is asked to wait (`Retry-After`) when a store is unreachable."""


class StoreUnavailableError(ServiceUnavailable):
    """503: the store (Redis) cannot be reached or did not answer in time.

    Raised instead of the client library's error (kept in `__cause__`); sessions,
    throttles and caches let it through, and the core answers `503` with `Retry-After`.
    """


class StoreOutage(OutageLog):
    """Log a store's outage once when it starts and once when it ends."""

    __slots__ = ()

    def __init__(self, name: str) -> None:
        super().__init__(logger, name, counted="failed calls")

    def unavailable(self, error: BaseException) -> StoreUnavailableError:
        """Count a failed call and return the 503 to raise; the first failure is logged."""
        self.failed(
            "%s unavailable, answering 503 until it recovers: %s: %s",
            self.what,
            type(error).__name__,
            error,
        )
        unavailable = StoreUnavailableError(
            f"the {self.what} is unreachable", retry_after=RETRY_AFTER
        )
        unavailable.__cause__ = error
        return unavailable


@runtime_checkable
class Store(Protocol):
    """An async key/value store with per-key expiry.

    Keys are strings, values are bytes. A key whose time to live has passed reads as
    missing. Implementations must make `incr` atomic across every client of the store.
    """

    async def get(self, key: str) -> bytes | None:
        """Return the value stored under `key`, or `None` when it is missing or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store `value` under `key`, expiring after `ttl` seconds (`None`: never)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove `key`; removing a missing key is not an error."""
        ...

    async def incr(self, key: str, ttl: float) -> int:
        """Add one to the counter under `key` and return the new value.

        A missing (or expired) key starts at 1 and expires after `ttl` seconds; later
        increments keep that expiry, which makes fixed-window rate limits simple.
        """
        ...

    async def close(self) -> None:
        """Release connections held by the store."""
        ...


def check_ttl(ttl: float | None) -> None:
    """Raise `ValueError` unless `ttl` is `None` or a positive, finite number of seconds."""
    if ttl is None:
        return
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not (0 < ttl < math.inf):
        raise ValueError(f"ttl must be a positive number of seconds or None, not {ttl!r}")


def check_value(value: bytes) -> None:
    """Raise `TypeError` unless `value` is bytes."""
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"store values are bytes, not {type(value).__name__}")


def check_prefix(prefix: str, code: str) -> None:
    """Raise `ConfigurationError` when a key prefix is not a string."""
    if not isinstance(prefix, str):
        raise ConfigurationError(f"prefix must be a string, not {prefix!r}", code)
