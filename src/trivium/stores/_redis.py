"""`RedisStore`: keys in Redis, shared by every worker process on every host.

`redis` is imported when a `RedisStore` is created, never by `import trivium.stores`.
Expiry uses Redis's own millisecond TTLs, and `incr` creates the counter with its TTL and
increments it in one `MULTI` transaction, so concurrent workers count exactly. `get`, the
one command a request with a session cookie makes, goes over a pipelined connection of
the store's own (`pipelined_channel`), when the client's settings allow one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import ConfigurationError
from trivium.errors import MissingDependencyError
from trivium.stores._base import StoreOutage
from trivium.stores._base import check_prefix
from trivium.stores._base import check_ttl
from trivium.stores._base import check_value
from trivium.stores._channel import pipelined_channel

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisStore"]


def _milliseconds(ttl: float) -> int:
    return max(1, math.ceil(ttl * 1000))


def _client(from_url: Any, url: str, timeout: float | None) -> Redis:
    """Build a client that gives up after `timeout` and retries a lost connection once.

    A timeout is not retried: a stalled Redis would double every wait past `timeout`.
    """
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    client: Redis = from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
    return client


class RedisStore:
    """Keep keys in Redis under a common prefix.

    ```python
    store = RedisStore("redis://localhost:6379/0", prefix="myapp:")
    ```

    When Redis cannot be reached or does not answer within `timeout`, every method
    raises `StoreUnavailableError` (a 503 with `Retry-After`); the outage is logged once
    when it starts and once when Redis answers again.

    Args:
        url_or_client: a `redis://` URL (the store then owns the connection pool and
            `close()` releases it) or a ready `redis.asyncio.Redis` client (left open).
        prefix: put before every key, so several apps can share one Redis database.
        timeout: seconds to wait for a connection and for each answer, for a store
            built from a URL (a ready client keeps its own settings); `None`: wait for
            ever.

    Raises:
        MissingDependencyError: the `redis` package is not installed.
        ConfigurationError: `prefix` is not a string (`store-prefix`), or `timeout` is
            not a positive number (`store-timeout`).
    """

    __slots__ = ("_channel", "_errors", "_owned", "client", "outage", "prefix")

    def __init__(
        self, url_or_client: str | Redis, prefix: str = "trivium:", timeout: float | None = 2.0
    ) -> None:
        check_prefix(prefix, "store-prefix")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
        ):
            raise ConfigurationError(
                f"timeout={timeout!r} is not a number of seconds; use a positive number or None",
                "store-timeout",
            )
        try:
            from redis.asyncio import from_url
            from redis.exceptions import ConnectionError as RedisConnectionError
            from redis.exceptions import TimeoutError as RedisTimeoutError
        except ImportError:  # pragma: no cover - redis is installed in the test env
            raise MissingDependencyError("redis", "redis") from None
        self.prefix = prefix
        """Put before every key."""
        self._owned = isinstance(url_or_client, str)
        self.client: Redis = (
            _client(from_url, url_or_client, timeout)
            if isinstance(url_or_client, str)
            else url_or_client
        )
        """The `redis.asyncio.Redis` client in use."""
        self.outage = StoreOutage("Redis store")
        """Logs the store's outages, once when one starts and once when it ends."""
        # A lost connection first: `get` retries that one once.
        self._errors: tuple[type[Exception], ...] = (
            RedisConnectionError,
            RedisTimeoutError,
            OSError,
        )
        self._channel = pipelined_channel(self.client)

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r})"

    async def get(self, key: str) -> bytes | None:
        """Return the value under `key`, or `None` when missing or expired."""
        channel = self._channel
        try:
            if channel is None:
                value = await self.client.get(self.prefix + key)
            else:
                try:
                    value = await channel.call("GET", self.prefix + key)
                except self._errors[0]:
                    # Once, as the client would: a connection Redis closed since its last use.
                    value = await channel.call("GET", self.prefix + key)
                if isinstance(value, channel.reply_error):
                    from redis.exceptions import ResponseError

                    raise ResponseError(str(value))
        except self._errors as exc:
            raise self.outage.unavailable(exc) from exc
        if self.outage.down_since is not None:
            self.outage.recovered()
        if value is None:
            return None
        return value if isinstance(value, bytes) else str(value).encode()

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store `value` under `key` for `ttl` seconds (`None`: no expiry)."""
        check_value(value)
        check_ttl(ttl)
        px = None if ttl is None else _milliseconds(ttl)
        try:
            await self.client.set(self.prefix + key, bytes(value), px=px)
        except self._errors as exc:
            raise self.outage.unavailable(exc) from exc
        if self.outage.down_since is not None:
            self.outage.recovered()

    async def delete(self, key: str) -> None:
        """Remove `key` if present."""
        try:
            await self.client.delete(self.prefix + key)
        except self._errors as exc:
            raise self.outage.unavailable(exc) from exc
        if self.outage.down_since is not None:
            self.outage.recovered()

    async def incr(self, key: str, ttl: float) -> int:
        """Add one to the counter under `key`; a new counter expires after `ttl` seconds."""
        check_ttl(ttl)
        name = self.prefix + key
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.set(name, 0, px=_milliseconds(ttl), nx=True)
                pipe.incr(name)
                results = await pipe.execute()
        except self._errors as exc:
            raise self.outage.unavailable(exc) from exc
        if self.outage.down_since is not None:
            self.outage.recovered()
        return int(results[1])

    async def close(self) -> None:
        """Close the store's own connection, and the connection pool if this store created it."""
        if self._channel is not None:
            self._channel.close()
        if self._owned:
            await self.client.aclose()
