"""A WSGI application (Flask, Django, any PEP 3333 app) served as an ASGI app.

The environ is built by a2wsgi (`SCRIPT_NAME` from the mount's `root_path`, `PATH_INFO`
the rest of the path, headers as `HTTP_*`), and the request body is a2wsgi's lazy
reader: the legacy app's thread pulls one ASGI message at a time, so an upload is
never held whole in memory. The responder is trivium's own, for three reasons:

- its thread pool is the app's own and bounded (`workers`), so slow legacy views queue
  behind each other and never occupy the threads trivium's sync handlers run on;
- response chunks go through a bounded queue (`send_queue_size` chunks), so a fast
  producer and a slow client hold at most that many chunks in memory;
- a client that leaves, or a legacy app that raises, ends the legacy iterable at once
  (its `close()` is called and the thread is freed) instead of blocking the thread on a
  queue nobody drains; an exception before the response started is answered 500 and
  logged, never re-raised into the server.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
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

__all__ = ["WSGIApp"]

logger = logging.getLogger("trivium.interop")

WSGICallable = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_ERROR_BODY = b"Internal Server Error"


class _ClientGone(Exception):  # noqa: N818 - internal signal, never leaves this module
    """The ASGI side stopped taking messages (the client left or the send failed)."""


class WSGIApp:
    """Serve a WSGI app (a Flask app, Django's `get_wsgi_application()`) as ASGI.

    Mount it like any ASGI app: `app.mount("/legacy", WSGIApp(flask_app, workers=8))`.

    Args:
        app: the WSGI callable.
        workers: size of this app's own thread pool: at most that many legacy requests
            run at once; the others wait for a thread (trivium's handlers never do).
        send_queue_size: response chunks buffered between the legacy thread and the
            client; the legacy thread waits when the client reads slower.
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


class _Exchange:
    """One request: the legacy thread produces messages, the loop sends them."""

    __slots__ = ("gone", "loop", "outer", "queue", "receive", "scope", "send", "started")

    def __init__(self, outer: WSGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        self.outer = outer
        self.scope = scope
        self.receive = receive
        self.send = send
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue(outer.send_queue_size)
        self.started = False
        self.gone = False

    async def run(self) -> None:
        body = Body(self.loop, cast("Any", self.receive))
        environ: dict[str, Any] = dict(build_environ(cast("Any", dict(self.scope)), body))
        # The body reader ends where the ASGI body ends, so a chunked upload (no
        # Content-Length) is readable too (Werkzeug reads nothing without this flag).
        environ["wsgi.input_terminated"] = True
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

    async def _sender(self) -> None:
        while True:
            message = await self.queue.get()
            if message is None:
                return
            if self.gone:
                continue  # drain so that the legacy thread never blocks on a full queue
            try:
                await self.send(message)
            except Exception:  # noqa: BLE001 - a failed send is a client that left
                self.gone = True

    def _put(self, message: Message) -> None:
        if self.gone:
            raise _ClientGone
        asyncio.run_coroutine_threadsafe(self.queue.put(message), self.loop).result()

    def _start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.started = True
        code = int(status.split(" ", 1)[0])
        raw = [
            (k.strip().lower().encode("latin-1"), v.strip().encode("latin-1")) for k, v in headers
        ]
        self._put({"type": "http.response.start", "status": code, "headers": raw})
        return self._write

    def _write(self, chunk: bytes) -> None:
        if chunk:
            self._put({"type": "http.response.body", "body": chunk, "more_body": True})

    def _serve(self, environ: dict[str, Any]) -> None:
        """Run the legacy app in a pool thread, ending its iterable in every case."""
        iterable: Iterable[bytes] | None = None
        try:
            iterable = self.outer.app(environ, self._start_response)
            for chunk in iterable:
                self._write(chunk)
            self._put({"type": "http.response.body", "body": b"", "more_body": False})
        except _ClientGone:
            logger.info("client left during %s %s", environ["REQUEST_METHOD"], _path(environ))
        except Exception:
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
            # Headers are out: all that is left is to end the body early.
            self.gone = True
            return
        self.started = True
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(_ERROR_BODY)).encode()),
        ]
        self._put({"type": "http.response.start", "status": 500, "headers": headers})
        self._put({"type": "http.response.body", "body": _ERROR_BODY, "more_body": False})


def _path(environ: dict[str, Any]) -> str:
    return str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
