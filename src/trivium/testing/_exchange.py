"""One ASGI connection driven in-process: the scope, the app task and the HTTP exchange.

Everything here is async and lives on the event loop that runs the app. The sync client
reaches it through an anyio blocking portal (`portal.call(exchange.next_chunk)`), the async
client awaits it directly, so both clients share one implementation of the protocol.

Body chunks travel from the app to the client through a small bounded memory stream, so a
response streams for real (an endless generator is fine) and the app feels back-pressure
when the test reads slowly. When the client lets go of an unfinished response, the app's
`receive()` returns `http.disconnect` and further sends raise `ClientGoneError` (an
`OSError`, as ASGI servers do).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import unquote

import anyio
import httpx

from trivium.errors import ConfigurationError
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = [
    "CLOSE_GRACE",
    "AppTask",
    "ClientGoneError",
    "HTTPExchange",
    "TestConfig",
    "connection_scope",
    "failed_response",
    "only",
]

CLOSE_GRACE = 2.0
"""Seconds an app gets to finish on its own once the client has gone, before it is cancelled."""

_BUFFERED_MESSAGES = 16
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_HTTP_SPEC = {"version": "3.0", "spec_version": "2.4"}
_WEBSOCKET_SPEC = {"version": "3.0", "spec_version": "2.4"}


class ClientGoneError(OSError):
    """Raised by `send()` when the test client has closed the connection."""


@dataclass(eq=False)
class TestConfig:
    """What a test client's transports need to serve requests."""

    __test__ = False

    app: ASGIApp
    """The ASGI application under test."""
    raise_server_exceptions: bool = True
    """Re-raise exceptions escaping the app in the test instead of answering 500."""
    root_path: str = ""
    """The `root_path` put in every scope; the request path is prefixed with it."""
    client: tuple[str, int] | None = ("testclient", 50000)
    """The peer address put in every scope."""
    state: dict[str, Any] = field(default_factory=dict)
    """The lifespan state; each connection scope gets a shallow copy."""
    active: set[AppTask] = field(default_factory=set)
    """App tasks still running (touched on the event loop only)."""

    def cancel_active(self) -> None:
        """Cancel every app task still running (the client is shutting down)."""
        for task in list(self.active):
            task.cancel()


def connection_scope(
    request: httpx.Request,
    config: TestConfig,
    kind: str = "http",
    subprotocols: list[str] | None = None,
) -> Scope:
    """Build a complete ASGI 3 `http` or `websocket` scope for `request`."""
    url = request.url
    raw_path = url.raw_path.partition(b"?")[0]
    scheme = url.scheme
    if kind == "websocket":
        scheme = "wss" if scheme in ("https", "wss") else "ws"
    root = config.root_path.rstrip("/")
    scope: Scope = {
        "type": kind,
        "asgi": dict(_HTTP_SPEC if kind == "http" else _WEBSOCKET_SPEC),
        "http_version": "1.1",
        "scheme": scheme,
        # Like a server started with a root path: the app sees the prefix in `path`.
        "path": root + unquote(raw_path.decode("ascii")),
        "raw_path": root.encode("utf-8") + raw_path,
        "root_path": root,
        "query_string": url.query,
        "headers": [(key.lower(), value) for key, value in request.headers.raw],
        "client": config.client,
        "server": (url.host, url.port or _DEFAULT_PORTS.get(scheme, 80)),
        "state": dict(config.state),
        "extensions": {},
    }
    if kind == "http":
        scope["method"] = request.method
    else:
        scope["subprotocols"] = list(subprotocols or ())
        scope["extensions"] = {"websocket.http.response": {}}
    return scope


class AppTask:
    """Run one ASGI call of the app and record how it ended."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        """Set once the app call has returned, raised or been cancelled."""
        self.error: Exception | None = None
        """The exception that escaped the app, unless it was an expected disconnect."""
        self._cancel_scope = anyio.CancelScope()

    async def run(self, config: TestConfig, scope: Scope, receive: Receive, send: Send) -> None:
        """Call the app, catching what escapes it so the caller's task group survives."""
        config.active.add(self)
        try:
            with self._cancel_scope:
                await config.app(scope, receive, send)
        except Exception as exc:  # noqa: BLE001 - whatever escapes the app goes to the test
            if not self._expected(exc):
                self.error = exc
        finally:
            config.active.discard(self)
            self._finished()
            self.done.set()

    def _expected(self, exc: Exception) -> bool:
        """Return whether `exc` is the app's normal reaction to the client leaving."""
        return False

    def _finished(self) -> None:
        """Release app-side resources once the app call is over."""

    def cancel(self) -> None:
        """Cancel the app call."""
        self._cancel_scope.cancel()

    async def wait(self, grace: float | None) -> None:
        """Wait for the app to finish; after `grace` seconds (if given) cancel it."""
        if grace is not None:
            with anyio.move_on_after(grace):
                await self.done.wait()
            if not self.done.is_set():
                self.cancel()
        await self.done.wait()


class HTTPExchange(AppTask):
    """One HTTP request/response between the test client and the app."""

    def __init__(self, scope: Scope, body: bytes) -> None:
        super().__init__()
        self.scope = scope
        """The connection scope."""
        self.disconnected = False
        """Whether the client let go of the response before it was complete."""
        self._body: bytes | None = body
        self._to_client, self._from_app = anyio.create_memory_object_stream[Message](
            _BUFFERED_MESSAGES
        )
        self._complete = anyio.Event()
        self._started = False
        self._finished_body = False
        self._read_all = False

    async def run_app(self, config: TestConfig) -> None:
        """Serve the request with the app."""
        await self.run(config, self.scope, self._receive, self._send)

    def _expected(self, exc: Exception) -> bool:
        return self.disconnected and only(exc, ClientGoneError)

    def _finished(self) -> None:
        self._to_client.close()

    async def _receive(self) -> Message:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        # Like a server: after the body, receive() waits until the response is complete
        # or the client goes away, and then reports a disconnect.
        await self._complete.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if self.disconnected:
            raise ClientGoneError("the client closed the response")
        kind = message["type"]
        if kind == "http.response.start":
            if self._started:
                raise RuntimeError('the app sent "http.response.start" twice')
            self._started = True
        elif kind == "http.response.body":
            if not self._started:
                raise RuntimeError('the app sent "http.response.body" before "http.response.start"')
            if self._finished_body:
                raise RuntimeError('the app sent "http.response.body" after the response ended')
            self._finished_body = not message.get("more_body", False)
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an HTTP connection")
        try:
            await self._to_client.send(message)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise ClientGoneError("the client closed the response") from None
        if self._finished_body:
            self._complete.set()

    async def response_start(self) -> Message | None:
        """Wait for `http.response.start`; `None` when the app ended without one."""
        try:
            return await self._from_app.receive()
        except anyio.EndOfStream:
            return None

    async def next_chunk(self) -> bytes | None:
        """Wait for the next body chunk; `None` once the body is over."""
        if self._read_all:
            return None
        try:
            message = await self._from_app.receive()
        except anyio.EndOfStream:
            self._read_all = True
            return None
        self._read_all = not message.get("more_body", False)
        return bytes(message.get("body", b""))

    async def close(self, grace: float | None = CLOSE_GRACE) -> None:
        """Let go of the response and wait for the app to finish.

        A complete response waits for the app without limit (its background tasks run
        after the body); an unfinished one disconnects and gives the app `grace` seconds.
        """
        if not self._complete.is_set():
            self.disconnected = True
            self._complete.set()
        self._from_app.close()
        await self.wait(grace if self.disconnected else None)


def only(exc: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    """Return whether `exc` (or every exception in an exception group) is one of `kinds`."""
    if isinstance(exc, BaseExceptionGroup):
        return exc.split(kinds)[1] is None
    return isinstance(exc, kinds)


def failed_response(
    config: TestConfig, error: Exception | None, request: httpx.Request
) -> httpx.Response:
    """Answer a request whose app call ended without a response.

    Raises:
        Exception: the app's exception, when `raise_server_exceptions` is on.
        ConfigurationError: the app could not be built (whatever the setting: a server
            would not start).
        RuntimeError: the app returned without responding and exceptions are raised.
    """
    if isinstance(error, ConfigurationError):
        raise error
    if config.raise_server_exceptions:
        if error is not None:
            raise error
        raise RuntimeError("the ASGI app returned without sending a response")
    return httpx.Response(
        500,
        content=b"Internal Server Error",
        headers={"content-type": "text/plain; charset=utf-8"},
        request=request,
    )
