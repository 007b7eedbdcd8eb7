"""One pipelined Redis connection for the rate limit's script runs.

A rate limit check is one short `EVALSHA` per request, so the client's own cost is
what decides how much a limit slows a route down. redis-py's pipeline takes a pooled
connection, runs every command through its callback machinery and arms a timeout for
each reply read; measured on the benchmark, that was more than the handler itself.
This channel keeps one connection per worker (opened on first use, again after a
failure), writes a batch of commands packed by hiredis in one call and lets hiredis'
reader split the replies, which come back in the order the commands were sent.

It speaks only what the backend needs (connect, `AUTH`, `SELECT`, a batch of commands)
over TCP or a Unix socket, with the settings of the store's own client. TLS
connections and clients whose settings it can't follow keep redis-py's pipeline
(`channel_for` returns `None`), as does an installation without hiredis.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Channel", "channel_for"]

_FOLLOWED = {"host", "port", "path", "db", "username", "password"}
_HARMLESS = {
    "socket_timeout",
    "socket_connect_timeout",
    "retry",  # a failed batch is an outage the plugin handles (503 or fail open)
    "retry_on_timeout",
    "health_check_interval",
}


def channel_for(client: Redis) -> Channel | None:
    """Return a channel with `client`'s connection settings, or `None` when it can't follow them."""
    try:
        import hiredis
    except ImportError:
        return None
    from redis.asyncio.connection import Connection
    from redis.asyncio.connection import UnixDomainSocketConnection

    pool = client.connection_pool
    kwargs = dict(pool.connection_kwargs)
    if pool.connection_class not in (Connection, UnixDomainSocketConnection):
        return None  # TLS, or a connection class of the user's
    extra = {k for k, v in kwargs.items() if v is not None} - _FOLLOWED - _HARMLESS
    if extra - {"encoding", "encoding_errors", "decode_responses", "client_name"}:
        return None
    return Channel(kwargs, hiredis)


class _Link(asyncio.Protocol):
    """The connection's protocol: replies handed, in order, to the batches waiting for them."""

    def __init__(self, hiredis: Any) -> None:
        self.reader = hiredis.Reader()
        self.transport: asyncio.Transport | None = None
        self.waiting: collections.deque[tuple[list[Any], int, asyncio.Future[list[Any]]]] = (
            collections.deque()
        )
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        waiting = self.waiting
        while (reply := self.reader.gets()) is not False:
            if not waiting:  # a reply nobody asked for: the stream can't be trusted
                self._fail(ConnectionError("Redis sent a reply no command was waiting for"))
                return
            replies, count, future = waiting[0]
            replies.append(reply)
            if len(replies) == count:
                waiting.popleft()
                if not future.done():
                    future.set_result(replies)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionError("Redis closed the connection"))

    def _fail(self, error: BaseException) -> None:
        self.lost = error
        while self.waiting:
            _, _, future = self.waiting.popleft()
            if not future.done():
                future.set_exception(_connection_error(error))
        if self.transport is not None:
            self.transport.abort()


class Channel:
    """A pipelined connection to one Redis server, used by one event loop at a time."""

    __slots__ = ("_connecting", "_hiredis", "_kwargs", "_link", "_loop", "timeout")

    def __init__(self, kwargs: dict[str, Any], hiredis: Any) -> None:
        self._kwargs = kwargs
        self._hiredis = hiredis
        self._link: _Link | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Lock | None = None
        self.timeout: float | None = kwargs.get("socket_timeout")
        """How long a batch may wait for its replies (the client's `socket_timeout`)."""

    async def execute(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Send `commands` in one write and return their replies (errors as `ReplyError`).

        Raises:
            redis.exceptions.ConnectionError: Redis is unreachable or the connection broke.
            redis.exceptions.TimeoutError: the replies took longer than `timeout`.
        """
        link = await self._connected()
        payload = b"".join(self._hiredis.pack_command(tuple(c)) for c in commands)
        return await self._send(link, payload, len(commands))

    async def _send(self, link: _Link, payload: bytes, count: int) -> list[Any]:
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        link.waiting.append(([], count, future))
        link.transport.write(payload)  # type: ignore[union-attr]
        if self.timeout is None:
            return await future
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            # Later replies would be matched to the wrong commands: start again.
            link._fail(TimeoutError("Redis did not answer in time"))
            from redis.exceptions import TimeoutError as RedisTimeoutError

            raise RedisTimeoutError(f"Redis did not answer in {self.timeout:g} s") from None

    async def _connected(self) -> _Link:
        link = self._link
        loop = asyncio.get_running_loop()
        if link is not None and link.lost is None and self._loop is loop:
            return link
        if self._connecting is None or self._loop is not loop:
            self._connecting = asyncio.Lock()
            self._loop = loop
        async with self._connecting:
            link = self._link
            if link is None or link.lost is not None or self._loop is not loop:
                link = await self._connect(loop)
                self._link = link
            return link

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Link:
        kwargs = self._kwargs
        hiredis = self._hiredis
        try:
            async with asyncio.timeout(kwargs.get("socket_connect_timeout") or self.timeout):
                if kwargs.get("path"):
                    _, link = await loop.create_unix_connection(
                        lambda: _Link(hiredis), kwargs["path"]
                    )
                else:
                    _, link = await loop.create_connection(
                        lambda: _Link(hiredis),
                        kwargs.get("host", "localhost"),
                        kwargs.get("port", 6379),
                    )
                setup: list[tuple[Any, ...]] = []
                if kwargs.get("password"):
                    user = kwargs.get("username")
                    auth = (user, kwargs["password"]) if user else (kwargs["password"],)
                    setup.append(("AUTH", *auth))
                if kwargs.get("db"):
                    setup.append(("SELECT", kwargs["db"]))
                if setup:
                    payload = b"".join(hiredis.pack_command(c) for c in setup)
                    for reply in await self._send(link, payload, len(setup)):
                        if isinstance(reply, hiredis.ReplyError):
                            link._fail(ConnectionError(str(reply)))
                            raise _connection_error(reply)
        except (OSError, TimeoutError) as exc:
            raise _connection_error(exc) from exc
        return link

    def close(self) -> None:
        """Close the connection (a later `execute` opens a new one)."""
        if self._link is not None and self._link.transport is not None:
            self._link.transport.close()
        self._link = None


def _connection_error(error: BaseException) -> BaseException:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(error, RedisConnectionError | RedisTimeoutError):
        return error
    if isinstance(error, TimeoutError):
        return RedisTimeoutError(str(error) or "Redis did not answer in time")
    return RedisConnectionError(f"Redis: {error}")
