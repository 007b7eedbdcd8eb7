"""`RedisStore`: keys in Redis, shared by every worker process on every host.

`redis` is imported when a `RedisStore` is created, never by `import trivium.stores`.
Expiry uses Redis's own millisecond TTLs, and `incr` creates the counter with its TTL and
increments it in one `MULTI` transaction, so concurrent workers count exactly.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from trivium.errors import MissingDependencyError
from trivium.stores._base import check_prefix
from trivium.stores._base import check_ttl
from trivium.stores._base import check_value

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisStore"]


def _milliseconds(ttl: float) -> int:
    return max(1, math.ceil(ttl * 1000))


class RedisStore:
    """Keep keys in Redis under a common prefix.

    ```python
    store = RedisStore("redis://localhost:6379/0", prefix="myapp:")
    ```

    Args:
        url_or_client: a `redis://` URL (the store then owns the connection pool and
            `close()` releases it) or a ready `redis.asyncio.Redis` client (left open).
        prefix: put before every key, so several apps can share one Redis database.

    Raises:
        MissingDependencyError: the `redis` package is not installed.
        ConfigurationError: `prefix` is not a string (`store-prefix`).
    """

    __slots__ = ("_owned", "client", "prefix")

    def __init__(self, url_or_client: str | Redis, prefix: str = "trivium:") -> None:
        check_prefix(prefix, "store-prefix")
        try:
            from redis.asyncio import from_url
        except ImportError:  # pragma: no cover - redis is installed in the test env
            raise MissingDependencyError("redis", "redis") from None
        self.prefix = prefix
        """Put before every key."""
        self._owned = isinstance(url_or_client, str)
        self.client: Redis = (
            from_url(url_or_client) if isinstance(url_or_client, str) else url_or_client
        )
        """The `redis.asyncio.Redis` client in use."""

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r})"

    async def get(self, key: str) -> bytes | None:
        """Return the value under `key`, or `None` when missing or expired."""
        value = await self.client.get(self.prefix + key)
        if value is None:
            return None
        return value if isinstance(value, bytes) else str(value).encode()

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store `value` under `key` for `ttl` seconds (`None`: no expiry)."""
        check_value(value)
        check_ttl(ttl)
        px = None if ttl is None else _milliseconds(ttl)
        await self.client.set(self.prefix + key, bytes(value), px=px)

    async def delete(self, key: str) -> None:
        """Remove `key` if present."""
        await self.client.delete(self.prefix + key)

    async def incr(self, key: str, ttl: float) -> int:
        """Add one to the counter under `key`; a new counter expires after `ttl` seconds."""
        check_ttl(ttl)
        name = self.prefix + key
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, px=_milliseconds(ttl), nx=True)
            pipe.incr(name)
            results = await pipe.execute()
        return int(results[1])

    async def close(self) -> None:
        """Close the connection pool if this store created it."""
        if self._owned:
            await self.client.aclose()
