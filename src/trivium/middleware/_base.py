"""`BaseHTTPMiddleware` and `@app.middleware("http")`: middleware as `dispatch(request, call_next)`.

`call_next` runs the wrapped app in its own task (the app must keep running while
`dispatch` holds its response, or a streaming body could not stream) and hands its
messages over through a small channel: no task group, no memory-object streams.
A streamed chunk is handed over only when the previous one was taken, so a fast
producer never runs ahead of a slow client. Stepping the app's coroutine by hand in the
request's own task was tried and refused: anyio cancel scopes entered by the app (a
streaming response's disconnect watcher) belong to the task that entered them, and
would cancel the middleware's own writes.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable

from trivium.http._datastructures import FormData
from trivium.http._limits import Limits
from trivium.http._request import Request
from trivium.http._response import Response
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["BaseHTTPMiddleware", "CallNext", "DispatchFunction"]

CallNext = Callable[[Request], Awaitable[Response]]
"""`call_next(request)`: run the rest of the app and return its response."""
DispatchFunction = Callable[[Request, CallNext], Awaitable[Response]]
"""`async def dispatch(request, call_next) -> Response`."""

_CHUNK_SIZE = 64 * 1024
"""Bytes of an uploaded file sent again per message (see `_multipart`)."""


class _Channel:
    """The wrapped app's messages, handed to the middleware one at a time."""

    __slots__ = ("closed", "error", "items", "readable", "taken", "task")

    def __init__(self) -> None:
        self.items: collections.deque[Message] = collections.deque()
        self.readable = asyncio.Event()
        self.taken = asyncio.Event()
        self.closed = False
        self.error: BaseException | None = None
        self.task: asyncio.Task[None] | None = None

    async def put(self, message: Message) -> None:
        """The app's `send`: wait until a streamed chunk was taken (back-pressure)."""
        self.items.append(message)
        self.readable.set()
        if message.get("more_body"):
            self.taken.clear()
            await self.taken.wait()

    def close(self, error: BaseException | None) -> None:
        self.closed = True
        self.error = error
        self.readable.set()

    async def get(self) -> Message | None:
        """Return the app's next message, `None` when it is over; re-raise its error."""
        while not self.items:
            if self.closed:
                if self.error is not None:
                    error, self.error = self.error, None
                    raise error
                return None
            self.readable.clear()
            await self.readable.wait()
        message = self.items.popleft()
        self.taken.set()
        return message

    async def stop(self) -> None:
        """Cancel the app if it still runs (its response was not used) and wait for it."""
        task = self.task
        if task is None or task.done():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise


class _CallNextResponse(Response):
    """The response `call_next` returns: status and headers known, body still coming."""

    __slots__ = ("_channel",)

    def __init__(self, start: Message, channel: _Channel) -> None:
        self.status_code = start["status"]
        self.background = None
        self.body = b""
        self._headers = None
        self.raw_headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", ())]
        self._channel = channel

    @property
    def body_iterator(self) -> AsyncIterator[bytes]:
        """The body chunks, produced by the app as they are read (as Starlette's)."""
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        channel = self._channel
        while (message := await channel.get()) is not None:
            if message["type"] != "http.response.body":
                continue
            body = message.get("body", b"")
            if body:
                yield body
            if not message.get("more_body", False):
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the app's response chunk by chunk, then wait for the app to finish."""
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for chunk in self._chunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        while await self._channel.get() is not None:  # the app's background work
            pass
        if self.background is not None:
            await self.background()


class BaseHTTPMiddleware:
    """Middleware written as `dispatch(request, call_next)`, as in Starlette.

    Subclass it and override `dispatch`, or pass `dispatch=`. `call_next(request)` runs
    the rest of the app and returns its response (status and headers set, body sent as
    it is produced); `dispatch` may change its headers or return another response.
    A body the dispatch function read (`await request.body()`, `json()` or `form()`) is
    replayed to the app; one it consumed with `stream()` reaches the app empty. The
    files of a form it read are closed once the response is sent. No route is matched
    yet, so the request is held to the app's limits (`App(limits=...)`,
    `max_body_size=`), not to a route's own.

    ```python
    class Timing(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            response = await call_next(request)
            response.headers["X-Elapsed"] = "..."
            return response
    ```
    """

    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func: DispatchFunction = dispatch or self.dispatch

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        """Handle `request`; override this (or pass `dispatch=`)."""
        raise NotImplementedError  # pragma: no cover - a subclass or dispatch= provides it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection: HTTP through `dispatch`, anything else straight through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send, limits=_app_limits(scope))
        channels: list[_Channel] = []

        async def call_next(request: Request) -> Response:
            channel = _Channel()
            channels.append(channel)
            channel.task = asyncio.get_running_loop().create_task(
                _run(self.app, request, receive, channel)
            )
            start = await channel.get()
            if start is None:
                raise RuntimeError("No response returned.")
            return _CallNextResponse(start, channel)

        try:
            response = await self.dispatch_func(request, call_next)
            await response(scope, receive, send)
        finally:
            for channel in channels:  # responses not used, or not fully sent
                await channel.stop()
            if request._form is not None:  # the uploads of a form `dispatch` read
                await request.close()


def _app_limits(scope: Scope) -> Limits | None:
    """Return the limits of the app serving `scope` (no route is matched yet), if any."""
    config = getattr(scope.get("app"), "http_config", None)
    limits = getattr(config, "limits", None)
    return limits if isinstance(limits, Limits) else None


async def _run(app: ASGIApp, request: Request, receive: Receive, channel: _Channel) -> None:
    try:
        await app(request.scope, _replaying(request, receive), channel.put)
    except BaseException as exc:
        channel.close(exc)
        if not isinstance(exc, Exception):
            raise
    else:
        channel.close(None)


def _replaying(request: Request, receive: Receive) -> Receive:
    """Return the app's receive channel: the real one, unless `dispatch` read the body.

    Decided when `call_next` runs, so a request whose body `dispatch` left alone costs
    nothing. A body read whole (`body()`, `json()`, an urlencoded `form()`) is given
    again as one message, a multipart `form()` is sent again from its fields and files,
    and a body taken by `stream()`, which nothing kept, arrives empty: the app never
    waits for data that will not come.
    """
    if request._body is None and not request._stream_consumed:
        return receive
    messages = _resent(request)

    async def replay() -> Message:
        message = await anext(messages, None)
        return message if message is not None else await receive()

    return replay


async def _resent(request: Request) -> AsyncIterator[Message]:
    body = request._body
    form = request._form
    if body is None and form is not None:
        from python_multipart.multipart import parse_options_header

        boundary = parse_options_header(request.headers.get("content-type"))[1].get(b"boundary")
        if boundary:
            async for chunk in _multipart(form, b"--" + boundary):
                yield {"type": "http.request", "body": chunk, "more_body": True}
    yield {"type": "http.request", "body": body or b"", "more_body": False}


async def _multipart(form: FormData, delimiter: bytes) -> AsyncIterator[bytes]:
    """Encode a parsed multipart form again; each file is read from its start, then rewound.

    File parts keep the headers they came with; text parts are UTF-8, as the parser
    reads a part without a charset.
    """
    from trivium.http._upload import UploadFile

    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            head = b"".join(key + b": " + text + b"\r\n" for key, text in value.headers.raw)
            yield delimiter + b"\r\n" + head + b"\r\n"
            await value.seek(0)
            while chunk := await value.read(_CHUNK_SIZE):
                yield chunk
            await value.seek(0)
            yield b"\r\n"
        else:
            quoted = name.replace("\\", "\\\\").replace('"', '\\"').encode()
            yield (
                delimiter
                + b'\r\ncontent-disposition: form-data; name="'
                + quoted
                + b'"\r\n\r\n'
                + str(value).encode()
                + b"\r\n"
            )
    yield delimiter + b"--\r\n"
