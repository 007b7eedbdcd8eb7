"""`RedisBackend`: channels shared by every process, through Redis pub/sub and Streams.

Each process holds **one** pub/sub connection, subscribed once to each channel that has
local subscribers; `Channels` fans events out to them. A publication is one `PUBLISH`
(Redis delivers it once per subscribed process), or, for a channel that keeps history,
one script that `XADD`s to the channel's stream and publishes the entry with its id, so
the live event and the stored one carry the same id.

The listener pings Redis whenever the connection has been idle for `health_interval`
seconds and treats a missing answer like a dropped connection: it reconnects with
exponential backoff, subscribes again to every channel, and then tells every local
subscriber that it may have missed events (a `resync` event). Meanwhile `ready` is
`False` and `publish` raises `ChannelsUnavailableError`.

Presence keeps, per channel, a sorted set of connection keys scored by the Redis time at
which their heartbeat expires, and a hash of their member data; scripts add, refresh,
remove and sweep entries and publish `join`/`leave` in the same step, so exactly one
process announces each change.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import anyio

from trivium.channels._backend import Deliver
from trivium.channels._backend import Entry
from trivium.channels._backend import Member
from trivium.channels._event import ChannelsUnavailableError
from trivium.channels._event import Event
from trivium.channels._event import EventKind
from trivium.channels._event import stream_id_key
from trivium.errors import ConfigurationError
from trivium.errors import MissingDependencyError
from trivium.errors import OutageLog

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

__all__ = ["RedisBackend"]

logger = logging.getLogger("trivium.channels")

_KINDS: dict[bytes, EventKind] = {b"m": "message", b"j": "join", b"l": "leave"}
_CODES = {kind: code.decode() for code, kind in _KINDS.items()}

_PUBLISH_KEPT = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'd', ARGV[1])
redis.call('PUBLISH', KEYS[2], 'm' .. id .. '\\n' .. ARGV[1])
return id
"""
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
_BEAT = (
    _NOW
    + """
local new = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[4])
if new == 1 then redis.call('PUBLISH', KEYS[4], 'j\\n' .. ARGV[2]) end
return new
"""
)
_LEAVE = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
local member = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if removed == 1 and member then redis.call('PUBLISH', KEYS[3], 'l\\n' .. member) end
return removed
"""
_SWEEP = (
    _NOW
    + """
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, key in ipairs(gone) do
  redis.call('ZREM', KEYS[1], key)
  local member = redis.call('HGET', KEYS[2], key)
  redis.call('HDEL', KEYS[2], key)
  if member then redis.call('PUBLISH', KEYS[3], 'l\\n' .. member) end
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[4], ARGV[1]) end
return #gone
"""
)
_MEMBERS = (
    _NOW
    + """
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
local out = {}
for _, key in ipairs(keys) do
  local member = redis.call('HGET', KEYS[2], key)
  if member then table.insert(out, key) table.insert(out, member) end
end
return out
"""
)


def _parse(channel: bytes, data: bytes) -> Event | None:
    """Decode a pub/sub message (kind letter, id, newline, JSON); `None` for a foreign one."""
    newline = data.find(b"\n")
    kind = _KINDS.get(data[:1])
    if newline < 0 or kind is None:
        logger.warning("channels: ignored a message not published by trivium on %r", channel)
        return None
    try:
        return Event(channel.decode(), data[newline + 1 :], kind, data[1:newline].decode() or None)
    except UnicodeDecodeError:
        logger.warning("channels: ignored a message with a malformed id on %r", channel)
        return None


def _unknown(after: str, oldest: list[Any], newest: list[Any]) -> bool:
    """Whether `after` lies outside the stream: trimmed away, or ahead of its newest entry.

    An id ahead of the stream comes from elsewhere: another Redis, a Redis restored from
    an older dump, a skewed clock.
    """
    key = stream_id_key(after)
    if not oldest or not newest or key is None:
        return True
    first = stream_id_key(oldest[0][0].decode())
    last = stream_id_key(newest[0][0].decode())
    return first is None or last is None or not first <= key <= last


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(
            f"{name}={value!r} is not a number of seconds; use a positive number",
            "channels-option",
        )
    return float(value)


class RedisBackend:
    """Carry events between processes through Redis (see the module docstring).

    ```python
    channels = Channels(RedisBackend("redis://localhost:6379/0"))  # or Channels("redis://...")
    ```

    Args:
        url: the `redis://` (or `rediss://`, `unix://`) URL.
        prefix: put before every Redis key and channel, so apps can share a database.
        timeout: seconds to wait for a connection and for each answer to a publisher.
        health_interval: seconds of silence after which the listener pings Redis (and
            reconnects when the answer does not come within as long again).
        max_backoff: the longest wait between two reconnection attempts, in seconds.

    Raises:
        MissingDependencyError: the `redis` package is not installed.
        ConfigurationError: the URL is not a Redis URL (`channels-backend`), or a number
            is not positive (`channels-option`).
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "trivium:channels:",
        timeout: float = 2.0,
        health_interval: float = 5.0,
        max_backoff: float = 5.0,
    ) -> None:
        try:
            from redis.asyncio import from_url
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import ConnectionError as RedisConnectionError
            from redis.exceptions import TimeoutError as RedisTimeoutError
        except ImportError:  # pragma: no cover - redis is installed in the test env
            raise MissingDependencyError("redis", "redis") from None
        if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigurationError(
                f"{url!r} is not a Redis URL; use 'redis://host:6379/0'", "channels-backend"
            )
        if not isinstance(prefix, str):
            raise ConfigurationError(f"prefix must be a string, not {prefix!r}", "channels-option")
        self.prefix = prefix
        """Put before every Redis key and channel name."""
        self.timeout = _positive(timeout, "timeout")
        self.health_interval = _positive(health_interval, "health_interval")
        self.max_backoff = _positive(max_backoff, "max_backoff")
        self.ready = False
        """Whether the listener is connected and subscribed (`False` during an outage)."""
        self._url = url
        self._from_url = from_url
        self._retry = (Retry, NoBackoff)
        self._errors = (RedisConnectionError, RedisTimeoutError, OSError)
        self._client: Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._channels: set[str] = set()
        self._confirmed: dict[bytes, anyio.Event] = {}
        self._first_connect: anyio.Event | None = None
        """Set once the listener first connected (a subscriber made before waits for it)."""
        self._pubsub: PubSub | None = None
        self._deliver: Deliver | None = None
        self._gap: Callable[[], None] | None = None
        self._outage = OutageLog(
            logger, "channels: Redis", back="is reachable again", counted="failed connections"
        )
        self._lost = False

    def __repr__(self) -> str:
        return f"RedisBackend(prefix={self.prefix!r})"

    # Publishing ----------------------------------------------------------------------

    @property
    def client(self) -> Redis:
        """The client publishers use (made on first use; `stop()` closes it)."""
        if self._client is None:
            retry, no_backoff = self._retry
            # One retry, for a connection found closed (a failover, a reset): that fails
            # at once. None after a timeout, so a stall costs a publisher `timeout`, not twice.
            self._client = self._from_url(
                self._url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=retry(no_backoff(), 1, supported_errors=(self._errors[0],)),
            )
        return self._client

    def _script(self, source: str) -> Any:
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self.client.register_script(source)
        return script

    def _key(self, kind: str, channel: str) -> str:
        return f"{self.prefix}{kind}:{channel}"

    def _failed(self, exc: BaseException) -> ChannelsUnavailableError:
        error = ChannelsUnavailableError("the channels backend (Redis) is unreachable")
        error.__cause__ = exc
        return error

    async def publish(self, channel: str, kind: EventKind, raw: bytes, keep: int) -> str | None:
        """Publish to every process; `XADD` to the channel's stream as well when `keep` > 0.

        Raises:
            ChannelsUnavailableError: Redis is unreachable; nothing was published.
        """
        try:
            if not keep:
                await self.client.publish(
                    self._key("c", channel), b"%s\n%s" % (_CODES[kind].encode(), raw)
                )
                return None
            keys = [self._key("s", channel), self._key("c", channel)]
            stream_id = await self._script(_PUBLISH_KEPT)(keys=keys, args=[raw, keep])
        except self._errors as exc:
            raise self._failed(exc) from exc
        return stream_id.decode() if isinstance(stream_id, bytes) else str(stream_id)

    async def history(self, channel: str, after: str, limit: int) -> list[Event]:
        """Return up to `limit` events of the channel's stream after the id `after`.

        The list starts with a `resync` when `after` is not in the stream's range.

        Raises:
            ChannelsUnavailableError: Redis is unreachable.
        """
        key = self._key("s", channel)
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.xrange(key, min="-", max="+", count=1)
                pipe.xrevrange(key, max="+", min="-", count=1)
                pipe.xrange(key, min=f"({after}", max="+", count=limit)
                oldest, newest, entries = await pipe.execute()
        except self._errors as exc:
            raise self._failed(exc) from exc
        gone = _unknown(after, oldest, newest)
        return [Event.resync(None, channel)] * gone + [
            Event(channel, bytes(fields[b"d"]), "message", entry_id.decode())
            for entry_id, fields in entries
        ]

    # Presence ------------------------------------------------------------------------

    def _presence_keys(self, channel: str) -> list[str]:
        return [self._key("p", channel), self._key("m", channel)]

    async def _run(self, source: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self._script(source)(keys=keys, args=args)
        except self._errors as exc:
            raise self._failed(exc) from exc

    async def beat(self, entries: Sequence[Entry], ttl: float) -> None:
        """Refresh the connections' heartbeats in one round trip (new ones publish `join`).

        Raises:
            ChannelsUnavailableError: Redis is unreachable.
        """
        script = self._script(_BEAT)
        millis = math.ceil(ttl * 1000)
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for channel, key, member in entries:
                    keys = [
                        *self._presence_keys(channel),
                        f"{self.prefix}presence",
                        self._key("c", channel),
                    ]
                    await script(keys=keys, args=[key, member, millis, channel], client=pipe)
                await pipe.execute()
        except self._errors as exc:
            raise self._failed(exc) from exc

    async def leave(self, channel: str, key: str) -> None:
        """Remove the connection (publishing `leave` if it was present)."""
        keys = [*self._presence_keys(channel), self._key("c", channel)]
        await self._run(_LEAVE, keys, [key])

    async def sweep(self) -> None:
        """Remove expired members of every channel with presence, publishing `leave`s."""
        try:
            names = await self.client.smembers(f"{self.prefix}presence")  # type: ignore[misc]
        except self._errors as exc:
            raise self._failed(exc) from exc
        for name in sorted(n.decode() for n in names):
            keys = [*self._presence_keys(name), self._key("c", name), f"{self.prefix}presence"]
            await self._run(_SWEEP, keys, [name])

    async def members(self, channel: str) -> Sequence[Member]:
        """Return the channel's members whose heartbeat has not expired."""
        flat = await self._run(_MEMBERS, self._presence_keys(channel), [])
        return [(bytes(flat[i]).decode(), bytes(flat[i + 1])) for i in range(0, len(flat), 2)]

    # Listening -----------------------------------------------------------------------

    async def start(self, deliver: Deliver, gap: Callable[[], None]) -> None:
        """Note where events go; the listener itself runs in `listen()`."""
        self._deliver = deliver
        self._gap = gap

    async def stop(self) -> None:
        """Close the publishers' client (`Channels` cancels `listen()` first)."""
        client, self._client = self._client, None
        self._scripts.clear()
        if client is not None:
            await client.aclose()

    async def subscribe(self, channel: str) -> None:
        """Subscribe the process to `channel` and wait for Redis to confirm it."""
        self._channels.add(channel)
        if (self._pubsub is None or not self.ready) and self._outage.down_since is None:
            # The listener is still making its first connection: wait for it, or an
            # event published meanwhile would be missed without a resync.
            with anyio.move_on_after(self.timeout):
                await self._first_connected().wait()
        pubsub = self._pubsub
        if pubsub is None or not self.ready:
            return  # the listener subscribes to every channel when it (re)connects
        name = self._key("c", channel).encode()
        confirmed = self._confirmed.setdefault(name, anyio.Event())
        try:
            await pubsub.subscribe(name)
        except self._errors:
            return  # the listener notices the outage, then subscribes again
        with anyio.move_on_after(self.timeout):
            await confirmed.wait()

    def _first_connected(self) -> anyio.Event:
        if self._first_connect is None:
            self._first_connect = anyio.Event()
        return self._first_connect

    async def unsubscribe(self, channel: str) -> None:
        """Unsubscribe the process from `channel`."""
        self._channels.discard(channel)
        pubsub = self._pubsub
        if pubsub is not None and self.ready:
            with contextlib.suppress(*self._errors):
                await pubsub.unsubscribe(self._key("c", channel))

    async def listen(self) -> None:
        """Receive events until cancelled, reconnecting with backoff after failures."""
        delay = 0.05
        while True:
            try:
                connected = await self._session()
            except Exception:  # a bug must not end the listener: log it and reconnect
                logger.exception("channels: the Redis listener failed; reconnecting")
                self._lost, connected = True, False
            if connected:
                delay = 0.05
            await anyio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    async def _session(self) -> bool:
        """Run one listener connection until it fails; return whether it connected."""
        retry, no_backoff = self._retry
        listener = self._from_url(
            self._url, socket_connect_timeout=self.timeout, retry=retry(no_backoff(), 0)
        )
        pubsub: PubSub = listener.pubsub()
        connected = False
        try:
            # The TCP handshake may succeed while Redis (or the path to it) hangs: bound
            # connecting and subscribing, or the attempt would wait for good.
            with anyio.fail_after(self.timeout):
                await self._connect(pubsub)
            connected = True
            await self._read(pubsub)
        except self._errors as exc:
            self._down(exc)
        finally:
            self.ready = False
            self._pubsub = None
            with anyio.CancelScope(shield=True):
                try:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                    await listener.aclose()
                except self._errors:
                    pass
        return connected

    async def _connect(self, pubsub: PubSub) -> None:
        subscribed = {*self._channels}
        await pubsub.subscribe(f"{self.prefix}control", *(self._key("c", c) for c in subscribed))
        self._pubsub = pubsub
        self.ready = True
        self._first_connected().set()
        missing = self._channels - subscribed
        if missing:
            await pubsub.subscribe(*(self._key("c", c) for c in missing))
        self._outage.recovered()  # the subscribers get a resync event (below)
        if self._lost and self._gap is not None:
            self._gap()
        self._lost = False

    def _down(self, exc: BaseException) -> None:
        self._lost = True
        self._outage.failed(
            "channels: lost Redis (%s: %s); reconnecting with backoff, subscribers get a "
            "resync event once it answers",
            type(exc).__name__,
            exc,
        )

    async def _read(self, pubsub: PubSub) -> None:
        skip = len(self.prefix) + 2
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=self.health_interval)
            if message is None:
                if pinged:
                    raise TimeoutError("Redis did not answer a PING")
                await pubsub.ping()
                pinged = True
                continue
            pinged = False
            kind = message["type"]
            if kind == "message" and self._deliver is not None:
                event = _parse(bytes(message["channel"])[skip:], message["data"])
                if event is not None:
                    self._deliver(event)
            elif kind == "subscribe":
                confirmed = self._confirmed.pop(bytes(message["channel"]), None)
                if confirmed is not None:
                    confirmed.set()
