"""`FaultProxy`: a TCP forwarder on 127.0.0.1 in front of a real server, for outage tests.

The app under test connects to the proxy instead of the server, with its real driver
(asyncpg, aiomysql, redis-py); the test then cuts, stalls or resets the connections as a
network, a failover or a hung server would. The proxy runs its own event loop in a thread,
so it keeps forwarding while a synchronous `TestClient` waits for an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

UP, DOWN, STALLED = "up", "down", "stalled"


class FaultProxy:
    """Forward 127.0.0.1:<port> to `url`'s host and port until told otherwise.

    - `cut()`: close every connection and refuse new ones (the server is down);
    - `stall()`: keep connections open but pass no bytes (a hung server or network);
    - `reset()`: close the current connections but accept new ones (a failover, a
      pooler restart, idle connections dropped by a firewall);
    - `restore()`: forward again.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._url = parts
        self._target = (parts.hostname or "127.0.0.1", parts.port)
        self._mode = UP
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0
        """The port the proxy listens on."""

    @property
    def url(self) -> str:
        """The server's URL with the proxy's address in place of the server's."""
        netloc = f"127.0.0.1:{self.port}"
        if self._url.username:
            auth = self._url.username
            if self._url.password:
                auth += f":{self._url.password}"
            netloc = f"{auth}@{netloc}"
        return urlunsplit(self._url._replace(netloc=netloc))

    def start(self) -> None:
        """Start listening on a free port."""
        self._thread.start()
        self._server = self._run(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Close every connection and stop the proxy."""
        self.cut()
        self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        await asyncio.sleep(0.05)  # let the aborted transports close their sockets
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def cut(self) -> None:
        """Close every connection and refuse new ones."""
        self._mode = DOWN
        self._loop.call_soon_threadsafe(self._flowing.set)  # stalled pipes see DOWN and end
        self._run(self._abort_all())

    def reset(self) -> None:
        """Close every current connection; new ones are forwarded."""
        self._run(self._abort_all())

    def stall(self) -> None:
        """Stop passing bytes, in both directions, on every connection."""
        self._mode = STALLED
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def restore(self) -> None:
        """Forward again (stalled bytes flow on)."""
        self._mode = UP
        self._loop.call_soon_threadsafe(self._flowing.set)

    def _run(self, coroutine: object) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(5)  # type: ignore[arg-type]

    async def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._mode == DOWN:
            writer.transport.abort()
            return
        self._writers.add(writer)
        await self._flowing.wait()
        if self._mode == DOWN:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(upstream_writer)
        await asyncio.gather(
            self._pipe(reader, upstream_writer),
            self._pipe(upstream_reader, writer),
            return_exceptions=True,
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                if self._mode == DOWN:
                    break
                writer.write(data)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


@contextlib.contextmanager
def fault_proxy(url: str) -> Iterator[FaultProxy]:
    """Run a `FaultProxy` in front of `url` for the duration of the block."""
    proxy = FaultProxy(url)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
