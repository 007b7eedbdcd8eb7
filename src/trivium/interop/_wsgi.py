"""A WSGI application (Flask, Django, any PEP 3333 app) served as an ASGI app.

The environ is built by a2wsgi (`SCRIPT_NAME` from the mount's `root_path`, `PATH_INFO`
the rest of the path, headers as `HTTP_*`), corrected where it differs from what
gunicorn builds (`wsgi_environ`), and the request body is a2wsgi's lazy reader: the
legacy app's thread pulls one ASGI message at a time, so an upload is never held whole
in memory. A client that leaves before its body ended makes that reader raise
`ClientDisconnectedError` (an `OSError`, as gunicorn's reader raises one): a2wsgi would
take the `http.disconnect` for the body's end, and with `wsgi.input_terminated` set
Werkzeug would not compare the length read with `Content-Length`, so the view would
get a shorter body as if it were complete. The responder is trivium's own, for four
reasons:

- its thread pool is the app's own and bounded (`workers`), so slow legacy views queue
  behind each other and never occupy the threads trivium's sync handlers run on;
- response chunks go through a bounded queue (`send_queue_size` chunks), so a fast
  producer and a slow client hold at most that many chunks in memory (on the ASGI
  interfaces: Granian's RSGI stream transport takes every chunk at once into an
  unbounded queue of its own, which nothing here can see or bound);
- a client that leaves, or a legacy app that raises, ends the legacy iterable at its
  next chunk (its `close()` is called and the thread is freed) instead of blocking the
  thread on a queue nobody drains. A client leaving is noticed either way a server
  tells it: a `send` that raises (RSGI), or `http.disconnect` from `receive()` (uvicorn
  and Granian's ASGI interface drop the sends silently), watched while a response
  streams;
- the response's start waits for the first body chunk (PEP 3333), so an exception before
  any body is answered 500 and logged, never re-raised into the server; one after the
  body began is logged and ends the exchange with `ResponseAbortedError`, the ASGI way
  of telling the server to cut the connection rather than end the body as complete.

A response body longer than its own `Content-Length` is cut to that length (logged once
per mount), as gunicorn does: the servers disagree on what to do with the excess.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections import deque
from collections.abc import Callable
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from typing import cast

from a2wsgi.wsgi import Body
from a2wsgi.wsgi import build_environ

from trivium.errors import ConfigurationError
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["ClientDisconnectedError", "ResponseAbortedError", "WSGIApp", "wsgi_environ"]

logger = logging.getLogger("trivium.interop")

WSGICallable = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_ERROR_BODY = b"Internal Server Error"
_WATCH_AFTER = 2  # body chunks sent before a response counts as a stream to watch
# ASGI's `http_version` as a WSGI `SERVER_PROTOCOL` names it: Granian says "1" for 1.0.
_PROTOCOLS = {"1": "HTTP/1.0", "1.0": "HTTP/1.0", "1.1": "HTTP/1.1", "2": "HTTP/2", "2.0": "HTTP/2"}


class _ClientGone(Exception):  # noqa: N818 - internal signal, never leaves this module
    """The ASGI side stopped taking messages (the client left or the send failed)."""


class ClientDisconnectedError(OSError):
    """Raised by `wsgi.input` when the client left before its request body ended.

    The legacy view fails instead of taking the part received for the whole body
    (Django turns it into its `UnreadablePostError`, an `OSError` too).
    """


class ResponseAbortedError(Exception):
    """The WSGI app failed after its response started: the server must cut the connection.

    Raised to the server (after the failure was logged on `trivium.interop`), the way
    an ASGI app says that the body sent so far is not the whole of it.
    """


class WSGIApp:
    """Serve a WSGI app (a Flask app, Django's `get_wsgi_application()`) as ASGI.

    Mount it like any ASGI app: `app.mount("/legacy", WSGIApp(flask_app, workers=8))`.

    Args:
        app: the WSGI callable.
        workers: size of this app's own thread pool: at most that many legacy requests
            run at once; the others wait for a thread (trivium's handlers never do).
        send_queue_size: response chunks buffered between the legacy thread and the
            client; the legacy thread waits when the client reads slower (on the ASGI
            interfaces; Granian's RSGI takes every chunk at once, see docs/interop.md).
    """

    def __init__(self, app: WSGICallable, *, workers: int = 10, send_queue_size: int = 8) -> None:
        if not callable(app):
            raise ConfigurationError(
                f"WSGIApp needs a WSGI callable, got {app!r}", "interop-not-wsgi"
            )
        for name, value in (("workers", workers), ("send_queue_size", send_queue_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(
                    f"WSGIApp({name}={value!r}): give a whole number of at least 1",
                    "interop-pool-size",
                )
        self.app = app
        """The wrapped WSGI callable."""
        self.workers = workers
        """The size of the legacy thread pool."""
        self.send_queue_size = send_queue_size
        self._executor: ThreadPoolExecutor | None = None
        self._warned_length = False  # a body longer than its Content-Length was logged

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The app's own thread pool (created at the first request)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="trivium-wsgi")
        return self._executor

    def close(self) -> None:
        """Stop the thread pool; requests in flight finish on their threads."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection; websockets are refused, lifespan events acknowledged."""
        kind = scope["type"]
        if kind == "http":
            await _Exchange(self, scope, receive, send).run()
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})
        elif kind == "lifespan":  # pragma: no cover - trivium does not forward lifespan to mounts
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})


class _Requests:
    """The request's messages, shared by the legacy app's body reader and a disconnect watch.

    An ASGI app calls `receive()` once at a time: both go through one lock. A body
    message the watch receives is held for the reader (one at a time, so an upload the
    app reads slowly is not buffered here); once the body is complete the watch waits
    for `http.disconnect`, which the servers that drop sends to a gone client
    silently (uvicorn, Granian's ASGI interface) report only there.
    """

    __slots__ = ("disconnected", "held", "lock", "receive", "taken")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.lock = asyncio.Lock()
        self.held: deque[Message] = deque()
        self.taken = asyncio.Event()
        self.disconnected = False

    async def next(self) -> Message:
        """Return the next body message for the legacy app's body reader (`wsgi.input`).

        The reader asks only while the body has more to come, so a disconnect here is a
        body cut short.

        Raises:
            ClientDisconnectedError: the client left before the body ended.
        """
        # A coroutine function: a2wsgi hands it to `run_coroutine_threadsafe`, which
        # takes coroutines only (Granian's ASGI `receive` returns another awaitable).
        while True:
            if self.held:
                self.taken.set()
                return self.held.popleft()
            if not self.disconnected:
                async with self.lock:
                    if self.held or self.disconnected:
                        continue
                    message = await self._pull()
                if message["type"] == "http.request":
                    return message
            raise ClientDisconnectedError("the client left before the request body ended")

    async def wait_for_disconnect(self) -> None:
        """Return once the client left; body messages received meanwhile wait for the reader."""
        while True:
            # More body to come: wait until the reader took this piece (an app that never
            # reads an unfinished body leaves the disconnect to its next failed send).
            while self.held and self.held[-1].get("more_body", False):
                self.taken.clear()
                await self.taken.wait()
            async with self.lock:
                if self.disconnected:  # seen here, or by the reader
                    return
                message = await self._pull()
            if message["type"] == "http.request":
                self.held.append(message)

    async def _pull(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.disconnect":
            self.disconnected = True
        return message


class _Exchange:
    """One request: the legacy thread produces messages, the loop sends them.

    The response's start waits for the first non-empty body chunk (or the end of an
    empty body), as PEP 3333 asks: until then `start_response` may be called again with
    `exc_info` to replace the status and headers, and a failure is still answered 500.
    """

    __slots__ = (
        "failed",
        "gone",
        "headers",
        "loop",
        "outer",
        "queue",
        "remaining",
        "requests",
        "scope",
        "send",
        "started",
        "status",
        "streamed",
        "watch",
    )

    def __init__(self, outer: WSGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        self.outer = outer
        self.scope = scope
        self.requests = _Requests(receive)
        self.send = send
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue(outer.send_queue_size)
        self.status: int | None = None  # set by start_response
        self.headers: list[tuple[bytes, bytes]] = []
        self.started = False  # the start message is queued: the status can't change
        self.streamed = 0  # body chunks sent with more to come (-1 once the body ended)
        self.remaining: int | None = None  # body bytes the Content-Length leaves room for
        self.failed = False  # the legacy app failed after its response started
        self.gone = False
        self.watch: asyncio.Task[None] | None = None

    async def run(self) -> None:
        environ = wsgi_environ(self.scope, Body(self.loop, cast("Any", self.requests.next)))
        sender = self.loop.create_task(self._sender())
        context = contextvars.copy_context()
        try:
            await self.loop.run_in_executor(
                self.outer.executor, functools.partial(context.run, self._serve, environ)
            )
        except BaseException:
            # Cancelled (the server gave up on the connection): the thread stops at its
            # next chunk and the sender, still draining, ends at the thread's None.
            self.gone = True
            raise
        await sender
        if self.failed and not self.gone:
            # What an ASGI server reads as "abort the connection": the client sees a
            # cut-off body, never one that looks complete. Logged already.
            raise ResponseAbortedError(
                f"the WSGI app failed after its response started ({_path(environ)})"
            )

    async def _sender(self) -> None:
        while True:
            if (
                self.streamed >= _WATCH_AFTER
                and self.watch is None
                and not self.gone
                and self.queue.empty()
            ):
                # A streaming response whose next chunk is not there yet: from now on,
                # watch for the client leaving (uvicorn and Granian's ASGI interface
                # drop sends to a gone client without a word). Not for a response of
                # one chunk, the common case, which would pay a task for nothing.
                self.watch = self.loop.create_task(self._watch())
            message = await self.queue.get()
            if message is None:  # the legacy thread is done
                if self.watch is not None:
                    self.watch.cancel()
                return
            if self.gone:
                continue  # drain so that the legacy thread never blocks on a full queue
            try:
                await self.send(message)
            except Exception:  # noqa: BLE001 - a failed send is a client that left
                self.gone = True
            else:
                if message["type"] == "http.response.body":
                    more = message.get("more_body", False)
                    self.streamed = self.streamed + 1 if more else -1  # -1: it ended

    async def _watch(self) -> None:
        with contextlib.suppress(Exception):  # a failed receive is a client that left too
            await self.requests.wait_for_disconnect()
        self.gone = True  # the legacy thread stops at its next chunk

    def _put(self, message: Message) -> None:
        if self.gone:
            raise _ClientGone
        asyncio.run_coroutine_threadsafe(self.queue.put(message), self.loop).result()

    def _start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            if self.started:  # too late to change the status: fail as PEP 3333 says
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.status is not None:
            raise RuntimeError("start_response was called a second time without exc_info")
        self.status = int(status.split(" ", 1)[0])
        self.headers = [
            (k.strip().lower().encode("latin-1"), v.strip().encode("latin-1")) for k, v in headers
        ]
        return self._write

    def _start(self) -> None:
        if self.status is None:
            raise RuntimeError("the WSGI app sent its body before calling start_response")
        self.started = True
        self.remaining = _content_length(self.headers)
        self._put({"type": "http.response.start", "status": self.status, "headers": self.headers})

    def _write(self, chunk: bytes) -> None:
        if not chunk:
            return
        if not self.started:
            self._start()
        remaining = self.remaining
        if remaining is not None:
            if len(chunk) > remaining:
                chunk = chunk[:remaining]
                self._warn_length()
                if not chunk:
                    return
            self.remaining = remaining - len(chunk)
        self._put({"type": "http.response.body", "body": chunk, "more_body": True})

    def _warn_length(self) -> None:
        if not self.outer._warned_length:
            self.outer._warned_length = True
            logger.warning(
                "the WSGI app's response to %s %s is longer than its Content-Length: the "
                "body was cut to that length (logged once per mount)",
                self.scope.get("method", ""),
                self.scope.get("path", ""),
            )

    def _serve(self, environ: dict[str, Any]) -> None:
        """Run the legacy app in a pool thread, ending its iterable in every case."""
        iterable: Iterable[bytes] | None = None
        try:
            iterable = self.outer.app(environ, self._start_response)
            for chunk in iterable:
                self._write(chunk)
            if not self.started:
                self._start()  # an empty body
            self._put({"type": "http.response.body", "body": b"", "more_body": False})
        except _ClientGone:
            logger.info("client left during %s %s", environ["REQUEST_METHOD"], _path(environ))
        except Exception as exc:
            if _cut_short(exc):  # no traceback: nothing went wrong on this side
                logger.info(
                    "client left during the request body of %s %s",
                    environ["REQUEST_METHOD"],
                    _path(environ),
                )
            else:
                logger.exception(
                    "the WSGI app failed on %s %s", environ["REQUEST_METHOD"], _path(environ)
                )
            self._fail()
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
            # The end mark: the sender (which always drains) stops there.
            asyncio.run_coroutine_threadsafe(self.queue.put(None), self.loop).result()

    def _fail(self) -> None:
        if self.gone:
            return
        if self.started:
            # Headers are out: the body sent so far goes out, then `run` aborts.
            self.failed = True
            return
        self.started = True
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(_ERROR_BODY)).encode()),
        ]
        with contextlib.suppress(_ClientGone):  # the client left meanwhile
            self._put({"type": "http.response.start", "status": 500, "headers": headers})
            self._put({"type": "http.response.body", "body": _ERROR_BODY, "more_body": False})


def wsgi_environ(scope: Scope, body: Body) -> dict[str, Any]:
    """Return the WSGI environ of an ASGI HTTP scope, as a WSGI server would build it.

    a2wsgi's, with five corrections that make it what gunicorn gives the same request:
    `SERVER_PROTOCOL` is `HTTP/1.0` for Granian's `http_version` "1"; a header whose name holds an underscore is dropped (gunicorn's `header_map="drop"`,
    nginx's and Django's default): `X-Remote_User` and `X-Remote-User` would both be
    `HTTP_X_REMOTE_USER`, so a client could forge a header a proxy sets, or have its
    value joined to the proxy's; `QUERY_STRING` is the raw query as latin-1 (PEP
    3333's bytes-as-text; a2wsgi decodes it as ASCII and fails on a raw UTF-8 byte);
    several `Cookie` headers (HTTP/2 sends one per cookie) are joined with "; " as RFC
    7540 8.1.2.5 asks, not with ","; and a request without `Host` (HTTP/2 on some
    servers) gets `HTTP_HOST` from the address the server listens on, as trivium's
    own `request.url` does.
    """
    copy = dict(scope)
    version = str(copy.setdefault("http_version", "1.1"))
    query = bytes(copy.get("query_string", b""))
    copy["query_string"] = b""
    headers = copy.get("headers", ())
    if any(b"_" in name for name, _ in headers):
        copy["headers"] = [(name, value) for name, value in headers if b"_" not in name]
    environ: dict[str, Any] = dict(build_environ(cast("Any", copy), body))
    copy["query_string"] = query  # environ["asgi.scope"]
    environ["QUERY_STRING"] = query.decode("latin-1")
    environ["SERVER_PROTOCOL"] = _PROTOCOLS.get(version, f"HTTP/{version}")
    # The body reader ends where the ASGI body ends, so a chunked upload (no
    # Content-Length) is readable too (Werkzeug reads nothing without this flag).
    environ["wsgi.input_terminated"] = True
    cookies = [value for name, value in copy.get("headers", ()) if name == b"cookie"]
    if len(cookies) > 1:
        environ["HTTP_COOKIE"] = "; ".join(bytes(value).decode("latin-1") for value in cookies)
    if not environ.get("HTTP_HOST"):
        host = _server_host(copy)
        if host is not None:
            environ["HTTP_HOST"] = host
    return environ


def _server_host(scope: Scope) -> str | None:
    server = scope.get("server")
    if not server:
        return None
    host, port = server
    try:
        port = int(port)  # Granian's ASGI scope gives it as text
    except (TypeError, ValueError):
        return str(host)
    default = 443 if scope.get("scheme") == "https" else 80
    return str(host) if port == default else f"{host}:{port}"


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _cut_short(exc: BaseException) -> bool:
    """Whether `exc` is (or was raised from) a request body cut short by the client."""
    seen: BaseException | None = exc
    for _ in range(8):  # Django wraps it in UnreadablePostError; a bound on odd chains
        if seen is None:
            return False
        if isinstance(seen, ClientDisconnectedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _path(environ: dict[str, Any]) -> str:
    return str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
