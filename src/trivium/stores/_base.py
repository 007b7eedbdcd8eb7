"""The `Store` protocol every key/value backend implements, and its shared checks.

A store keeps bytes under string keys, each with an optional time to live. Sessions,
throttles and caches are written against the protocol only, so the same code runs on the
process-local `MemoryStore` in development and on Redis or a database table in
production, where every worker process (on every host) sees the same data.
"""

from __future__ import annotations

import math
from typing import Protocol
from typing import runtime_checkable

from trivium.errors import ConfigurationError

__all__ = ["Store", "check_ttl", "check_value"]


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
