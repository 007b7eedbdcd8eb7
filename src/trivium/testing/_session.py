"""The websocket sessions of the test clients: sync (through a portal) and async."""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any
from typing import Literal
from typing import Self

import anyio
import orjson
from anyio.from_thread import start_blocking_portal

from trivium.http._response import json_default
from trivium.http._websocket import WebSocketDisconnect
from trivium.testing._exchange import CLOSE_GRACE
from trivium.testing._exchange import TestConfig
from trivium.testing._transport import TestTransport
from trivium.testing._websocket import WebSocketExchange
from trivium.types import Message
from trivium.types import Scope

__all__ = ["AsyncWebSocketTestSession", "WebSocketTestSession"]

Mode = Literal["text", "binary"]


class _Faces:
    """Message encoding and decoding shared by the sync and async sessions."""

    accepted_subprotocol: str | None
    """The subprotocol the app chose when accepting."""
    extra_headers: list[tuple[bytes, bytes]]
    """The headers the app added to its `websocket.accept`."""

    def _accepted(self, message: Message) -> None:
        self.accepted_subprotocol = message.get("subprotocol")
        self.extra_headers = [(bytes(k), bytes(v)) for k, v in message.get("headers") or ()]

    @staticmethod
    def _json_message(data: Any, mode: Mode) -> Message:
        encoded = orjson.dumps(data, default=json_default)
        if mode == "text":
            return {"type": "websocket.receive", "text": encoded.decode()}
        if mode == "binary":
            return {"type": "websocket.receive", "bytes": encoded}
        raise ValueError(f'mode must be "text" or "binary", not {mode!r}')

    @staticmethod
    def _payload(message: Message, key: str) -> Any:
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        value = message.get(key)
        if value is None:
            other = "bytes" if key == "text" else "text"
            raise TypeError(f"expected a {key} message, the app sent {other}: {message!r}")
        return value


class WebSocketTestSession(_Faces):
    """A websocket connection to the app under test (sync); use it with `with`."""

    def __init__(self, scope: Scope, transport: TestTransport) -> None:
        self._scope = scope
        self._transport = transport
        self._stack = contextlib.ExitStack()
        self.accepted_subprotocol = None
        self.extra_headers = []

    def __enter__(self) -> Self:
        stack = self._stack
        portal = self._transport.portal or stack.enter_context(start_blocking_portal())
        exchange = portal.call(WebSocketExchange, self._scope, self._transport.config)
        portal.start_task_soon(exchange.run_app)
        try:
            self._accepted(portal.call(exchange.handshake))
        except BaseException:
            portal.call(exchange.finish, 0)
            stack.close()
            raise
        self._portal = portal
        self._exchange = exchange
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._portal.call(self._exchange.finish, CLOSE_GRACE)
        finally:
            self._stack.close()
        if kind is None:
            self._exchange.raise_error()

    def send(self, message: Message) -> None:
        """Send a raw `websocket.receive` (or `websocket.disconnect`) message to the app."""
        self._portal.call(self._exchange.send, message)

    def send_text(self, data: str) -> None:
        """Send a text message."""
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: Mode = "text") -> None:
        """Send `data` as JSON in a text or binary message."""
        self.send(self._json_message(data, mode))

    def receive(self) -> Message:
        """Wait for the app's next raw message (`websocket.send` or `websocket.close`)."""
        return self._portal.call(self._exchange.receive)

    def receive_text(self) -> str:
        """Wait for a text message.

        Raises:
            WebSocketDisconnect: the app closed the websocket (with its code and reason).
        """
        return self._payload(self.receive(), "text")  # type: ignore[no-any-return]

    def receive_bytes(self) -> bytes:
        """Wait for a binary message.

        Raises:
            WebSocketDisconnect: the app closed the websocket (with its code and reason).
        """
        return self._payload(self.receive(), "bytes")  # type: ignore[no-any-return]

    def receive_json(self, mode: Mode = "text") -> Any:
        """Wait for a JSON message in a text or binary frame and decode it."""
        return orjson.loads(self._payload(self.receive(), "text" if mode == "text" else "bytes"))

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the websocket; the app receives `websocket.disconnect` with `code`."""
        self._portal.call(self._exchange.close, code, reason)


class AsyncWebSocketTestSession(_Faces):
    """A websocket connection to the app under test (async); use it with `async with`."""

    def __init__(self, scope: Scope, config: TestConfig) -> None:
        self._scope = scope
        self._config = config
        self._group = anyio.create_task_group()
        self.accepted_subprotocol = None
        self.extra_headers = []

    async def __aenter__(self) -> Self:
        await self._group.__aenter__()
        exchange = WebSocketExchange(self._scope, self._config)
        self._group.start_soon(exchange.run_app)
        try:
            self._accepted(await exchange.handshake())
        except BaseException:
            with anyio.CancelScope(shield=True):
                await exchange.finish(0)
            await self._group.__aexit__(None, None, None)
            raise
        self._exchange = exchange
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            with anyio.CancelScope(shield=True):
                await self._exchange.finish(CLOSE_GRACE)
        finally:
            await self._group.__aexit__(None, None, None)
        if kind is None:
            self._exchange.raise_error()

    async def send(self, message: Message) -> None:
        """Send a raw `websocket.receive` (or `websocket.disconnect`) message to the app."""
        await self._exchange.send(message)

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self.send({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self.send({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any, mode: Mode = "text") -> None:
        """Send `data` as JSON in a text or binary message."""
        await self.send(self._json_message(data, mode))

    async def receive(self) -> Message:
        """Wait for the app's next raw message (`websocket.send` or `websocket.close`)."""
        return await self._exchange.receive()

    async def receive_text(self) -> str:
        """Wait for a text message.

        Raises:
            WebSocketDisconnect: the app closed the websocket (with its code and reason).
        """
        return self._payload(await self.receive(), "text")  # type: ignore[no-any-return]

    async def receive_bytes(self) -> bytes:
        """Wait for a binary message.

        Raises:
            WebSocketDisconnect: the app closed the websocket (with its code and reason).
        """
        return self._payload(await self.receive(), "bytes")  # type: ignore[no-any-return]

    async def receive_json(self, mode: Mode = "text") -> Any:
        """Wait for a JSON message in a text or binary frame and decode it."""
        message = await self.receive()
        return orjson.loads(self._payload(message, "text" if mode == "text" else "bytes"))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the websocket; the app receives `websocket.disconnect` with `code`."""
        await self._exchange.close(code, reason)
