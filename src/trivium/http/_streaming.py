"""Responses whose body is produced while it is sent: streams and server-sent events.

Each response here is split in two halves so that a second protocol (RSGI) can serve it
without touching the logic:

* *what to send* — `prepare(method, request_headers)` settles `status_code` and
  `raw_headers` for the request and says whether a body follows; `stream_body(write)`
  pushes the body chunks through any `write(bytes)` coroutine; `release()` frees what the
  body held (open files, unfinished generators).
* *how to send it* — `__call__` speaks ASGI (over RSGI too, through the RSGI adapter's
  `send`), holding the status and headers back until the first chunk or until the body
  waits for it (`_Channel`), so that a body failing before either still becomes an
  error response. A sync iterator's first step runs in a worker thread, which is not
  the body waiting: the headers wait for that step (`_headers_due`).
  `run_stream(stream, write, wait_disconnect)` is the protocol-neutral core: it runs
  the body until it ends or until `wait_disconnect()` returns, and in the latter case
  cancels the body so a generator's `finally` runs.

A server that is stopping waits for the responses in flight, so an endless stream would
hold it until it kills its workers: `stop_streams()`, for the server glue to call when
the server is told to stop, ends every `StreamingResponse` being served (an event
stream cleanly, so its browser reconnects elsewhere; other streams are cut).

The body is pushed through `write` rather than pulled as an async iterator because
server-sent events interleave keep-alive pings with the content, which needs a second
task; a `write` callable lets that task live in a plain coroutine instead of inside an
async generator.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import cast

import anyio
import anyio.lowlevel
import anyio.to_thread

from trivium.http._datastructures import Headers
from trivium.http._datastructures import MutableHeaders
from trivium.http._events import ServerSentEvent
from trivium.http._events import as_event
from trivium.http._response import RawHeaders
from trivium.http._response import Response
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = [
    "Background",
    "Chunk",
    "Content",
    "EventSourceResponse",
    "Events",
    "ServerSentEvent",
    "StreamedResponse",
    "StreamingResponse",
    "Write",
    "build_headers",
    "race",
    "run_stream",
    "stop_streams",
]

Write = Callable[[bytes], Awaitable[None]]
"""A coroutine function that sends one body chunk to the client."""

Chunk = str | bytes | bytearray | memoryview
Content = Iterable[Chunk] | AsyncIterable[Chunk]
"""What a `StreamingResponse` streams: `str` or bytes-like chunks, sync or async."""
Events = Iterable[object] | AsyncIterable[object]
"""What an `EventSourceResponse` streams: events, event dicts or plain data."""
Background = Callable[[], Awaitable[object]] | None


def build_headers(
    headers: Mapping[str, str] | None, media_type: str | None, charset: str
) -> RawHeaders:
    """Build a raw header list from the caller's `headers` plus a content type.

    Raises:
        ValueError: a header value contains CR, LF or NUL.
    """
    merged = MutableHeaders(raw=[])
    for key, value in (headers or {}).items():
        merged.append(key, value)
    if media_type is not None and "content-type" not in merged:
        if media_type.startswith("text/") and "charset=" not in media_type:
            media_type += f"; charset={charset}"
        merged.append("content-type", media_type)
    return merged.raw


async def race(main: Callable[[], Awaitable[None]], side: Callable[[], Awaitable[object]]) -> bool:
    """Run `main` with `side` alongside; whichever ends first stops the other.

    Returns:
        `True` if `main` finished, `False` if `side` finished first and `main` was
        cancelled. An exception from either propagates as itself, not in a group.
    """
    error: Exception | None = None
    completed = False
    async with anyio.create_task_group() as group:

        async def run_side() -> None:
            nonlocal error
            try:
                await side()
            except Exception as exc:  # noqa: BLE001 - re-raised below, outside the task group
                if error is None:
                    error = exc
            group.cancel_scope.cancel()

        group.start_soon(run_side)
        try:
            await main()
            completed = True
        except Exception as exc:  # noqa: BLE001 - re-raised below, outside the task group
            if error is None:
                error = exc
        finally:
            group.cancel_scope.cancel()
    if error is not None:
        raise error
    return completed


async def run_stream(
    stream: Callable[[Write], Awaitable[None]],
    write: Write,
    wait_disconnect: Callable[[], Awaitable[object]],
) -> bool:
    """Run `stream(write)` until it ends or the client goes away.

    Returns:
        `True` if the body was sent completely, `False` if the client disconnected first.
    """
    return await race(lambda: stream(write), wait_disconnect)


def _asgi_disconnect(receive: Receive) -> Callable[[], Awaitable[None]]:
    async def wait_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    return wait_disconnect


_streams: set[anyio.Event] = set()
"""The stop events of the streams being served (see `stop_streams`)."""


def stop_streams() -> None:
    """End every `StreamingResponse` this process serves: the server is stopping.

    Call it on the serving event loop (a signal handler added with
    `loop.add_signal_handler`, or through `loop.call_soon_threadsafe`). An event stream
    ends cleanly; another stream is cut as when its producer fails.
    """
    for stop in list(_streams):
        stop.set()


_YIELD_EVERY = 8
"""Chunks a streamed body sends between two turns of the event loop it gives up."""


class _ClientGoneError(Exception):
    """The client closed the connection while a body chunk was being sent to it."""


class _Channel:
    """The ASGI `send` of one streamed response: headers held until they are due.

    The status and headers go out with the first chunk, or as soon as the body waits
    for it (`watch` runs once the body first suspends; it also runs when the body ended
    without suspending, hence `settled`), so a body that fails before either can still
    be answered with an error response instead. Every few chunks the body yields to
    the loop once: a server whose `send` returns without suspending (uvicorn writing to
    a client that left) would otherwise never let the disconnect watcher (or any other
    request) run while a producer that never awaits keeps yielding. Not after every
    chunk: a loop turn costs about as much as sending a small chunk.
    """

    __slots__ = ("opened", "ready", "send", "sent", "settled", "start")

    def __init__(self, send: Send, status: int, headers: RawHeaders) -> None:
        self.send = send
        self.start: Message = {"type": "http.response.start", "status": status, "headers": headers}
        self.opened: anyio.Event | None = None
        self.ready = False  # the headers went out (`opened` is set)
        self.settled = False
        self.sent = 0

    async def open(self) -> None:
        """Send the status and headers unless that was done (or is being done)."""
        opened = self.opened
        if opened is None:
            opened = self.opened = anyio.Event()
            try:
                await self.send(self.start)
            finally:
                self.ready = True
                opened.set()
        elif not opened.is_set():  # `watch` is sending them: the body must come after
            await opened.wait()

    async def write(self, chunk: bytes) -> None:
        """Send one body chunk (the headers first); raise `_ClientGoneError` if the client left."""
        if not chunk:
            return
        if not self.ready:
            await self.open()
        try:
            await self.send({"type": "http.response.body", "body": chunk, "more_body": True})
        except OSError:  # what an ASGI server raises for a connection that is gone
            raise _ClientGoneError from None
        self.sent += 1
        if not self.sent % _YIELD_EVERY:
            await anyio.lowlevel.checkpoint()

    def run(self, body: Callable[[Write], Awaitable[None]]) -> Callable[[Write], Awaitable[None]]:
        """Return `body`, noting when it ended (sent, failed or cancelled)."""

        async def running(write: Write) -> None:
            try:
                await body(write)
            finally:
                self.settled = True

        return running

    def watch(
        self,
        wait_disconnect: Callable[[], Awaitable[None]] | None,
        due: Callable[[], Awaitable[None]],
        stop: anyio.Event | None,
    ) -> Callable[[], Awaitable[None]]:
        """Return the task that runs alongside the body: open once it waits, then watch.

        `due` returns once the body's wait is a real one (not a sync iterator's first step);
        the watch ends when the client leaves or `stop` is set (the server is stopping).
        """

        async def watching() -> None:
            await due()
            if self.settled:  # started only as the task group closed: nothing waited
                return
            await self.open()
            if stop is None:
                await (anyio.sleep_forever() if wait_disconnect is None else wait_disconnect())
            elif wait_disconnect is None:
                await stop.wait()
            else:
                await race(wait_disconnect, stop.wait)

        return watching

    async def end(self) -> None:
        """End the body (sending the headers if no chunk did)."""
        await self.open()
        try:
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            raise _ClientGoneError from None


class StreamedResponse(Response):
    """Base of responses whose body is produced while sending (`body` stays empty).

    Subclasses override `prepare`, `stream_body` and `release`; the protocol senders only
    call those three.
    """

    __slots__ = ()

    stops_with_server = False
    """Whether `stop_streams()` ends this response (endless streams, not files)."""
    ends_cleanly_at_stop = False
    """Whether a response ended by `stop_streams()` gets its normal end (else it is cut)."""

    def _init_streamed(
        self, status_code: int, background: Background, raw_headers: RawHeaders
    ) -> None:
        self.status_code = status_code
        self.background = background
        self.body = b""
        self._headers = None
        self.raw_headers = raw_headers

    async def prepare(self, method: str, request_headers: Headers) -> bool:
        """Settle `status_code` and `raw_headers` for this request.

        Returns:
            Whether a body follows (`False` for HEAD).
        """
        return method != "HEAD"

    async def stream_body(self, write: Write) -> None:
        """Send every body chunk through `write`."""
        raise NotImplementedError

    async def release(self) -> None:
        """Free what the body holds; called once the response is over, sent or not."""

    async def _headers_due(self) -> None:
        """Return once a body that is waiting should have its headers sent (at once here)."""

    async def _serve_asgi(
        self,
        method: str,
        request_headers: Headers,
        send: Send,
        wait_disconnect: Callable[[], Awaitable[None]] | None,
    ) -> None:
        try:
            has_body = await self.prepare(method, request_headers)
            channel = _Channel(send, self.status_code, self.raw_headers)
            if has_body:
                stop = anyio.Event() if self.stops_with_server else None
                body = channel.run(self.stream_body)
                watch = channel.watch(wait_disconnect, self._headers_due, stop)
                if stop is not None:
                    _streams.add(stop)
                try:
                    sent = await run_stream(body, channel.write, watch)
                finally:
                    if stop is not None:
                        _streams.discard(stop)
                stopped = stop is not None and stop.is_set()
                if not sent and not (stopped and self.ends_cleanly_at_stop):
                    return  # the client left, or the server stops: cut
            await channel.end()
        except _ClientGoneError:
            pass  # the client left while a chunk was being sent
        finally:
            await self.release()

    async def send_asgi(self, send: Send, head_only: bool = False) -> None:
        """Send without request context: no conditionals, ranges or disconnect detection.

        Prefer calling the response as an ASGI app (`await response(scope, receive, send)`),
        which honours all three.
        """
        await self._serve_asgi("HEAD" if head_only else "GET", Headers(), send, None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve over ASGI, stopping the body when the client disconnects."""
        method = scope.get("method", "GET")
        await self._serve_asgi(method, Headers(scope=scope), send, _asgi_disconnect(receive))
        if self.background is not None:
            await self.background()


_DONE = object()


def _next_or_done(iterator: Iterator[object]) -> object:
    try:
        return next(iterator)
    except StopIteration:
        return _DONE


async def _consume(
    iterator: Iterator[Any] | AsyncIterator[Any],
    handle: Callable[[Any], Awaitable[None]],
    first: anyio.Event | None = None,
) -> None:
    # Sync iterators advance in a worker thread; cancelling waits for the current step.
    # `first` is set once the first step is over (an item, the end or an error).
    if isinstance(iterator, AsyncIterator):
        async for item in iterator:
            await handle(item)
        return
    try:
        item = await anyio.to_thread.run_sync(_next_or_done, iterator)
    finally:
        if first is not None:
            first.set()
    while item is not _DONE:
        await handle(item)
        item = await anyio.to_thread.run_sync(_next_or_done, iterator)


async def _close(iterator: object) -> None:
    # Shielded: this runs after a disconnect cancelled the stream and must still finish.
    with anyio.CancelScope(shield=True):
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
            return
        close = getattr(iterator, "close", None)
        if close is not None:
            await anyio.to_thread.run_sync(close)


class StreamingResponse(StreamedResponse):
    """Stream a body from a sync or async iterator of `str`/`bytes` chunks.

    No `content-length` is sent. Sync iterators are advanced in a worker thread so a
    blocking generator never stalls the event loop. The status and headers go out with
    the first chunk, or as soon as an async iterator waits (a sync one: once its first
    step is over, or with an `EventSourceResponse` ping), so an iterator that raises
    before its first chunk is answered like a handler's error (a 500, or the status of
    an `HTTPException`). When the client disconnects the iteration stops and the
    generator is closed, so its `finally` block runs. A HEAD request gets the headers
    only; the iterator is closed without being consumed.

    Args:
        content: the chunks; `str` chunks are encoded with `charset`.
        status_code: the HTTP status.
        headers: extra headers.
        media_type: the content type.
        background: work run after the response is sent.

    Raises:
        TypeError: `content` is not iterable.
    """

    __slots__ = ("_first", "_iterator")

    stops_with_server = True

    def __init__(
        self,
        content: Content,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background = None,
    ) -> None:
        raw = build_headers(headers, media_type or self.media_type, self.charset)
        self._init_streamed(status_code, background, raw)
        self._first: anyio.Event | None = None  # set once a sync iterator's first step is over
        self._iterator: Iterator[Any] | AsyncIterator[Any]
        if isinstance(content, AsyncIterable):
            self._iterator = aiter(content)
        elif isinstance(content, Iterable) and not isinstance(content, (str, bytes)):
            self._iterator = iter(content)
        else:
            raise TypeError(
                "StreamingResponse content must be an iterable or async iterable of chunks, "
                f"not {type(content).__name__}"
            )

    def encode(self, chunk: object) -> bytes:
        """Turn one content item into body bytes.

        Raises:
            TypeError: the item is neither `str` nor bytes-like.
        """
        if isinstance(chunk, str):
            return chunk.encode(self.charset)
        if isinstance(chunk, (bytes, bytearray, memoryview)):
            return bytes(chunk)
        raise TypeError(f"streamed chunks must be str or bytes, not {type(chunk).__name__}")

    async def prepare(self, method: str, request_headers: Headers) -> bool:
        """Settle the response; a sync body's headers will wait for its first step."""
        has_body = await super().prepare(method, request_headers)
        if has_body and not isinstance(self._iterator, AsyncIterator):
            self._first = anyio.Event()
        return has_body

    async def stream_body(self, write: Write) -> None:
        """Send every item of the content through `write`."""

        async def handle(item: object) -> None:
            await write(self.encode(item))

        await _consume(self._iterator, handle, self._first)

    async def _headers_due(self) -> None:
        # A worker thread computing the first chunk is not the body waiting for data.
        if self._first is not None:
            await self._first.wait()

    async def release(self) -> None:
        """Close the content iterator so an unfinished generator's `finally` runs."""
        await _close(self._iterator)


class _KeepAlive:
    """Serialize writes and send a ping comment whenever nothing was written for a while."""

    __slots__ = ("_interval", "_last", "_lock", "_ping", "_write")

    def __init__(self, write: Write, interval: float, ping: bytes) -> None:
        self._write = write
        self._interval = interval
        self._ping = ping
        self._lock = anyio.Lock()
        self._last = anyio.current_time()

    async def write(self, chunk: bytes) -> None:
        async with self._lock:
            await self._write(chunk)
            self._last = anyio.current_time()

    async def run(self) -> None:
        while True:
            delay = self._last + self._interval - anyio.current_time()
            if delay > 0:
                await anyio.sleep(delay)
            else:
                await self.write(self._ping)


class EventSourceResponse(StreamingResponse):
    r"""Stream server-sent events (`text/event-stream`) from a sync or async iterator.

    Items may be `ServerSentEvent` objects, dicts whose keys are all among its field
    names (`data`, `event`, `id`, `retry`, `comment`), or any other value, which becomes
    the event's `data` (`str` as is, other values as JSON): a dict with any other key is
    such a value, so `{"n": 1}` is sent as `data: {"n":1}`.
    A `: ping` comment goes out whenever nothing was sent for `ping` seconds, so proxies
    keep the connection open. The stream stops, and the generator is closed, when the
    client disconnects.

    Args:
        content: the events.
        ping: the keep-alive interval in seconds; `None` disables pings.
        headers: extra headers.
        background: work run after the stream ends.
        status_code: the HTTP status.
        sep: the line separator: `"\n"`, `"\r\n"` or `"\r"`.

    Raises:
        ValueError: `sep` is not a line break or `ping` is not positive.
    """

    __slots__ = ("ping", "sep")

    media_type = "text/event-stream"
    ends_cleanly_at_stop = True

    def __init__(  # noqa: PLR0913 - the usual response parameters plus ping and sep
        self,
        content: Events,
        ping: float | None = 15.0,
        headers: Mapping[str, str] | None = None,
        background: Background = None,
        status_code: int = 200,
        sep: str = "\n",
    ) -> None:
        if sep not in ("\n", "\r\n", "\r"):
            raise ValueError(f"sep must be '\\n', '\\r\\n' or '\\r', not {sep!r}")
        if ping is not None and ping <= 0:
            raise ValueError(f"ping must be a positive number of seconds or None, not {ping!r}")
        self.ping = ping
        """Seconds of silence after which a keep-alive comment is sent."""
        self.sep = sep
        """The line separator used in the event framing."""
        merged = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        merged.update({key.lower(): value for key, value in (headers or {}).items()})
        # Items are framed by `encode` below, so they need not be text chunks.
        super().__init__(cast("Content", content), status_code, merged, background=background)

    def encode(self, chunk: object) -> bytes:
        """Frame one content item as an event."""
        return as_event(chunk).encode(self.sep)

    async def stream_body(self, write: Write) -> None:
        """Send every event through `write`, with keep-alive pings while idle."""
        if self.ping is None:
            await super().stream_body(write)
            return
        keep_alive = _KeepAlive(write, self.ping, f": ping{self.sep}{self.sep}".encode())
        stream_events = super().stream_body
        await race(lambda: stream_events(keep_alive.write), keep_alive.run)
