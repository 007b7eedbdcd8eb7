"""One pipelined connection to Redis, for the commands every request makes.

A session read or a rate limit check is one short command per request, so the client's
own cost decides how much they slow a route down. redis-py takes a pooled connection
per command, runs it through its retry and callback machinery and arms a timeout for
each reply read; measured on the benchmarks, that was more than the handler itself.
A channel keeps one connection per worker (opened on first use, again after a
failure), writes the commands packed by hiredis in one system call per turn of the
event loop (all the requests served in that turn), without waiting for earlier
replies, and lets hiredis' reader split the replies, which Redis sends back in the
order the commands arrived.

The connection is a plain non-blocking socket watched by the event loop's reader, not
an asyncio transport: closing it is immediate and needs no later loop iteration, so a
channel used from several loops (a test client runs each request on its own) closes
the previous loop's connection when it moves, and a failed connection is gone at once.

It speaks only what its users need (connect, `AUTH`, `SELECT`, commands) over TCP or
a Unix socket, with the settings of a redis-py client. TLS connections and clients
whose settings it can't follow keep redis-py (`pipelined_channel` returns `None`), as
does an installation without hiredis.
"""

from __future__ import annotations

import asyncio
import collections
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisChannel", "pipelined_channel"]

_FOLLOWED = {"host", "port", "path", "db", "username", "password", "client_name"}
_HARMLESS = {
    "socket_timeout",
    "socket_connect_timeout",
    "retry",  # a failed command is an outage its user handles (503 or fail open)
    "retry_on_timeout",
    "health_check_interval",
    "encoding",
    "encoding_errors",
    "decode_responses",
}
_READ_SIZE = 65536


def pipelined_channel(client: Redis) -> RedisChannel | None:
    """Return a channel with `client`'s connection settings, or `None` when it can't follow them.

    The channel is the caller's: it opens its connection on first use and `close()`
    closes it; `client` itself is neither used nor closed.
    """
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
    if {k for k, v in kwargs.items() if v is not None} - _FOLLOWED - _HARMLESS:
        return None
    return RedisChannel(kwargs, hiredis)


# (replies so far, how many the batch expects, its future, its deadline)
_Batch = tuple[list[Any], int, "asyncio.Future[list[Any]]", float]


class _Link:
    """One open connection: commands written as they come, replies handed out in order."""

    __slots__ = (
        "closed",
        "fd",
        "loop",
        "lost",
        "out",
        "reader",
        "sock",
        "timeout",
        "timer",
        "waiting",
    )

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, hiredis: Any, timeout: float
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.fd = sock.fileno()
        self.reader = hiredis.Reader()
        self.waiting: collections.deque[_Batch] = collections.deque()
        self.lost: BaseException | None = None
        self.closed = False
        self.out = bytearray()  # what the socket did not take at once
        self.timeout = timeout  # 0: wait for ever
        self.timer: asyncio.TimerHandle | None = None
        loop.add_reader(self.fd, self._readable)

    def send(self, payload: bytes, count: int) -> asyncio.Future[list[Any]]:
        """Write `payload` (`count` commands) and return the future of their replies."""
        loop = self.loop
        future: asyncio.Future[list[Any]] = loop.create_future()
        if self.lost is not None:
            future.set_exception(_connection_error(self.lost))
            return future
        deadline = loop.time() + self.timeout if self.timeout else 0.0
        self.waiting.append(([], count, future, deadline))
        if deadline and self.timer is None:
            self.timer = loop.call_at(deadline, self._expire)
        out = self.out
        if not out:
            # Written once the loop has run what is ready now: the commands of every
            # request served in this turn of the loop go out in one system call.
            loop.call_soon(self._flush)
        out += payload
        return future

    def _flush(self) -> None:
        if self.lost is not None:
            return
        try:
            sent = self.sock.send(self.out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self.fail(exc)
            return
        del self.out[:sent]
        if self.out:  # the socket's buffer is full: the rest when it drains
            self.loop.add_writer(self.fd, self._writable)

    def _writable(self) -> None:
        try:
            sent = self.sock.send(self.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.fail(exc)
            return
        del self.out[:sent]
        if not self.out:
            self.loop.remove_writer(self.fd)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.fail(exc)
            return
        if not data:
            self.fail(ConnectionError("Redis closed the connection"))
            return
        reader = self.reader
        reader.feed(data)
        waiting = self.waiting
        while (reply := reader.gets()) is not False:
            if not waiting:  # a reply nobody asked for: the stream can't be trusted
                self.fail(ConnectionError("Redis sent a reply no command was waiting for"))
                return
            replies, count, future, _ = waiting[0]
            replies.append(reply)
            if len(replies) == count:
                waiting.popleft()
                if not future.done():
                    future.set_result(replies)

    def _expire(self) -> None:
        """Fail the connection if its oldest batch is overdue, else look again at its deadline."""
        self.timer = None
        if not self.waiting or self.lost is not None:
            return
        deadline = self.waiting[0][3]
        if deadline <= self.loop.time():
            # Later replies would be matched to the wrong commands: start again.
            self.fail(_timeout_error(self.timeout))
        else:
            self.timer = self.loop.call_at(deadline, self._expire)

    def fail(self, error: BaseException) -> None:
        """Close the connection and hand `error` to every batch still waiting."""
        if self.lost is None:
            self.lost = error
        if not self.closed:
            self.shut()
        if self.loop.is_closed():
            self.waiting.clear()  # nobody can await them any more
        while self.waiting:
            future = self.waiting.popleft()[2]
            if not future.done():
                future.set_exception(_connection_error(error))

    def shut(self) -> None:
        """Stop watching the socket and close it, now (from the loop's own thread)."""
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.loop.is_closed():
            self.loop.remove_reader(self.fd)
            self.loop.remove_writer(self.fd)
        self.sock.close()


class RedisChannel:
    """A pipelined connection to one Redis server, used by one event loop at a time.

    Made by `pipelined_channel(client)`. Moving to another event loop closes the
    connection of the previous one and opens a new one.
    """

    __slots__ = ("_connecting", "_hiredis", "_kwargs", "_link", "reply_error", "timeout")

    def __init__(self, kwargs: dict[str, Any], hiredis: Any) -> None:
        self._kwargs = kwargs
        self._hiredis = hiredis
        self._link: _Link | None = None
        # A lock of the loop in use: one connection attempt at a time.
        self._connecting: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self.timeout: float | None = kwargs.get("socket_timeout")
        """How long a command may wait for its reply (the client's `socket_timeout`)."""
        self.reply_error: type[Exception] = hiredis.ReplyError
        """The class of error replies (`WRONGTYPE ...`) among the replies."""

    async def execute(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Send `commands` in one write and return their replies (errors as `ReplyError`).

        Raises:
            redis.exceptions.ConnectionError: Redis is unreachable or the connection broke.
            redis.exceptions.TimeoutError: the replies took longer than `timeout`.
        """
        pack = self._hiredis.pack_command
        payload = b"".join(pack(tuple(command)) for command in commands)
        return await self._send(payload, len(commands))

    async def call(self, *command: Any) -> Any:
        """Send one command and return its reply (an error reply as `hiredis.ReplyError`).

        Raises:
            redis.exceptions.ConnectionError: Redis is unreachable or the connection broke.
            redis.exceptions.TimeoutError: the reply took longer than `timeout`.
        """
        replies = await self._send(self._hiredis.pack_command(command), 1)
        return replies[0]

    async def _send(self, payload: bytes, count: int) -> list[Any]:
        """Write `payload` on this loop's connection (opened if need be); return the replies."""
        link = self._link
        if link is None or link.lost is not None or link.loop is not asyncio.get_running_loop():
            link = await self._connected()
        return await link.send(payload, count)

    async def _connected(self) -> _Link:
        loop = asyncio.get_running_loop()
        if self._connecting is None or self._connecting[0] is not loop:
            self._connecting = (loop, asyncio.Lock())
        async with self._connecting[1]:
            link = self._link
            if link is not None and link.lost is None and link.loop is loop:
                return link
            if link is not None:
                self._link = None
                _close(link, loop)
            link = await self._connect(loop)
            self._link = link
            return link

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Link:
        kwargs = self._kwargs
        link: _Link | None = None
        try:
            async with asyncio.timeout(kwargs.get("socket_connect_timeout") or self.timeout):
                sock = await _open_socket(loop, kwargs)
                link = _Link(loop, sock, self._hiredis, self.timeout or 0.0)
                setup: list[tuple[Any, ...]] = []
                if kwargs.get("password"):
                    user = kwargs.get("username")
                    auth = (user, kwargs["password"]) if user else (kwargs["password"],)
                    setup.append(("AUTH", *auth))
                if kwargs.get("db"):
                    setup.append(("SELECT", kwargs["db"]))
                if kwargs.get("client_name"):  # as redis-py names its connections
                    setup.append(("CLIENT", "SETNAME", kwargs["client_name"]))
                if setup:
                    payload = b"".join(self._hiredis.pack_command(c) for c in setup)
                    for reply in await link.send(payload, len(setup)):
                        if isinstance(reply, self._hiredis.ReplyError):
                            link.fail(ConnectionError(str(reply)))
                            raise _connection_error(reply)
        except BaseException as exc:
            if link is not None:
                link.fail(exc)
            if isinstance(exc, OSError | TimeoutError):
                raise _connection_error(exc) from exc
            raise
        return link

    def close(self) -> None:
        """Close the connection (a later command opens a new one)."""
        link, self._link = self._link, None
        if link is not None:
            try:
                loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            _close(link, loop)


def _close(link: _Link, current: asyncio.AbstractEventLoop | None) -> None:
    """Close `link` now, or on its own loop's thread when that loop is serving elsewhere."""
    if link.closed:
        return
    closed = ConnectionError("the channel was closed")
    if link.loop is current or not link.loop.is_running():
        link.fail(closed)
    else:
        link.loop.call_soon_threadsafe(link.fail, closed)


async def _open_socket(loop: asyncio.AbstractEventLoop, kwargs: dict[str, Any]) -> socket.socket:
    """Connect a non-blocking socket to the client's Unix socket path or host and port."""
    path = kwargs.get("path")
    if path:
        targets: list[tuple[Any, Any]] = [(socket.AF_UNIX, path)]
    else:
        found = await loop.getaddrinfo(
            kwargs.get("host", "localhost"), kwargs.get("port", 6379), type=socket.SOCK_STREAM
        )
        targets = [(family, address) for family, _, _, _, address in found]
    error: OSError = OSError(f"no address for {kwargs.get('host')!r}")
    for family, address in targets:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            if family != socket.AF_UNIX:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            error = exc
        except BaseException:
            sock.close()
            raise
        else:
            return sock
    raise error


def _timeout_error(seconds: float) -> BaseException:
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return RedisTimeoutError(f"Redis did not answer in {seconds:g} s")


def _connection_error(error: BaseException) -> BaseException:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(error, RedisConnectionError | RedisTimeoutError):
        return error
    if isinstance(error, TimeoutError):
        return RedisTimeoutError(str(error) or "Redis did not answer in time")
    return RedisConnectionError(f"Redis: {error}")
