"""The websocket protocol between a test session and the app.

`WebSocketExchange` holds the protocol on the app's event loop: it feeds the app
`websocket.connect`, `websocket.receive` and `websocket.disconnect` messages, checks that
what the app sends follows the ASGI state machine, and hands the app's messages to the
test. The sessions in `_session` are thin sync and async faces over it.
"""

from __future__ import annotations

import contextlib
import math

import anyio

from trivium.http._websocket import WebSocketDisconnect
from trivium.testing._exchange import CLOSE_GRACE
from trivium.testing._exchange import AppTask
from trivium.testing._exchange import ClientGoneError
from trivium.testing._exchange import TestConfig
from trivium.testing._exchange import only
from trivium.types import Message
from trivium.types import Scope

__all__ = ["WebSocketExchange", "WebSocketRejected"]

# What the app may send in each state of its side of the connection, and the state after.
_TRANSITIONS: dict[str, dict[str, str]] = {
    "connecting": {
        "websocket.accept": "open",
        "websocket.close": "closed",
        "websocket.http.response.start": "denying",
    },
    "denying": {"websocket.http.response.body": "denying"},
    "open": {"websocket.send": "open", "websocket.close": "closed"},
    "closed": {},
}
_ALLOWED = ("websocket.receive", "websocket.disconnect")


class WebSocketRejected(WebSocketDisconnect):
    """The app refused the websocket handshake.

    Closing before `accept()` gives the close `code` (the server answers HTTP 403); a denial
    response (the `websocket.http.response` extension) gives its `status_code`, `headers`
    and `body` with code 1006, what a browser reports. It is a `WebSocketDisconnect`, which
    Starlette's test client raises in this case.
    """

    def __init__(
        self,
        code: int,
        reason: str = "",
        status_code: int = 403,
        headers: list[tuple[bytes, bytes]] | None = None,
        body: bytes = b"",
    ) -> None:
        self.code = code
        """The websocket close code."""
        self.reason = reason
        """The close reason."""
        self.status_code = status_code
        """The HTTP status the handshake was answered with."""
        self.headers = headers or []
        """The headers of a denial response."""
        self.body = body
        """The body of a denial response."""
        super().__init__(code, reason)

    def __str__(self) -> str:
        detail = f": {self.reason}" if self.reason else ""
        return f"websocket rejected (HTTP {self.status_code}, close code {self.code}){detail}"


class WebSocketExchange(AppTask):
    """One websocket connection between a test session and the app."""

    def __init__(self, scope: Scope, config: TestConfig) -> None:
        super().__init__()
        self.scope = scope
        """The connection scope."""
        self.client_closed = False
        """Whether the test side has closed the connection."""
        self._config = config
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        self._to_client, self._from_app = anyio.create_memory_object_stream[Message](math.inf)
        self._to_app.send_nowait({"type": "websocket.connect"})
        self._disconnect: Message = {"type": "websocket.disconnect", "code": 1006, "reason": ""}
        self._app_state = "connecting"
        self._app_close: Message | None = None
        self._reported = False

    async def run_app(self) -> None:
        """Serve the connection with the app."""
        await self.run(self._config, self.scope, self._receive, self._send)

    def _expected(self, exc: Exception) -> bool:
        if not self.client_closed:
            return False
        if only(exc, (ClientGoneError,)):
            return True
        # An app that lets a handler's uncaught disconnect escape on purpose (FastAPI's
        # compat app) gets it raised in the test, as Starlette's test client does.
        app = self._config.app
        escapes = getattr(getattr(app, "app", app), "websocket_disconnect_escapes", False)
        return only(exc, (WebSocketDisconnect,)) and not escapes

    def _finished(self) -> None:
        self._to_client.close()
        self._app_inbox.close()

    async def _receive(self) -> Message:
        try:
            return await self._app_inbox.receive()
        except anyio.EndOfStream:
            return dict(self._disconnect)

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if self.client_closed:
            if kind == "websocket.close":
                return  # answering the client's close is optional
            raise ClientGoneError("the client closed the websocket")
        state = self._app_state
        following = _TRANSITIONS[state].get(kind)
        if following is None:
            hint = " (call accept first)" if kind == "websocket.send" else ""
            raise RuntimeError(f"the app sent {kind!r} while the websocket is {state}{hint}")
        if kind == "websocket.http.response.body" and not message.get("more_body", False):
            following = "closed"
        self._app_state = following
        try:
            await self._to_client.send(message)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise ClientGoneError("the client closed the websocket") from None

    async def _next(self) -> Message | None:
        try:
            return await self._from_app.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return None

    async def handshake(self) -> Message:
        """Wait for the app to accept and return its `websocket.accept` message.

        Raises:
            WebSocketRejected: the app closed, denied or ended before accepting.
            Exception: the app's exception, when it raised and the client re-raises.
        """
        message = await self._next()
        if message is not None and message["type"] == "websocket.accept":
            return message
        rejection = await self._rejection(message)
        await self.finish(CLOSE_GRACE)
        self.raise_error()
        raise rejection

    async def _rejection(self, message: Message | None) -> WebSocketRejected:
        if message is None:  # a server answers a handshake the app never handled with 500
            return WebSocketRejected(1006, "the app did not accept the websocket", 500)
        if message["type"] == "websocket.close":
            return WebSocketRejected(message.get("code", 1000), message.get("reason") or "")
        body = bytearray()
        while (part := await self._next()) is not None:
            body += part.get("body", b"")
            if not part.get("more_body", False):
                break
        headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
        return WebSocketRejected(1006, "", message["status"], headers, bytes(body))

    async def receive(self) -> Message:
        """Wait for the app's next message; a synthesized `websocket.close` once it ended."""
        if self._app_close is not None:
            return dict(self._app_close)
        message = await self._next()
        if message is None:
            await self.wait(None)
            self.raise_error()
            code = 1011 if self.error is not None else 1006
            message = {"type": "websocket.close", "code": code, "reason": ""}
        if message["type"] == "websocket.close":
            self._app_close = message
            if message.get("code") == 1011:
                # The app's error closed it: the test sees that error, as with Starlette's
                # client (the route closes, then raises it for the server's log).
                await self.wait(CLOSE_GRACE)
                self.raise_error()
        return message

    async def send(self, message: Message) -> None:
        """Deliver a `websocket.receive` or `websocket.disconnect` message to the app."""
        if message.get("type") not in _ALLOWED:
            raise ValueError(f"a client sends only {_ALLOWED}, not {message.get('type')!r}")
        if self.client_closed:
            raise RuntimeError("the websocket session is closed")
        if message["type"] == "websocket.disconnect":
            await self.close(message.get("code", 1000), message.get("reason"))
            return
        # Sending to an app that has already finished is dropped, as on a real socket.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            self._to_app.send_nowait(message)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection from the client side with `code` and `reason`."""
        if self.client_closed:
            return
        self.client_closed = True
        self._disconnect = {"type": "websocket.disconnect", "code": code, "reason": reason or ""}
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            self._to_app.send_nowait(dict(self._disconnect))
        self._to_app.close()

    async def finish(self, grace: float | None = CLOSE_GRACE) -> None:
        """Close (if still open), wait up to `grace` seconds for the app, then cancel it."""
        await self.close()
        await self.wait(grace)
        self._from_app.close()

    def raise_error(self) -> None:
        """Raise the app's exception once, if the client re-raises server exceptions."""
        if self.error is not None and self._config.raise_server_exceptions and not self._reported:
            self._reported = True
            error: BaseException = self.error
            # The RSGI bridge's task group wraps the app's one exception: raise that one.
            while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
                error = error.exceptions[0]
            raise error
