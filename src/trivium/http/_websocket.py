"""The websocket connection handed to websocket handlers.

`WebSocket` tracks both halves of the ASGI websocket state machine: `client_state` moves
with the messages received (`websocket.connect`, then `websocket.receive`, until
`websocket.disconnect`) and `application_state` with the messages sent (`websocket.accept`
or `websocket.close`). Misuse, such as sending before `accept()` or after `close()`, raises
a `RuntimeError` that says what to do instead; a client that goes away surfaces as
`WebSocketDisconnect`, and malformed client data as `WebSocketException` (so the route
closes the socket with a meaningful code instead of crashing).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import Literal

import orjson

from trivium.errors import WebSocketException
from trivium.http._request import HTTPConnection
from trivium.http._response import json_default
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]

Mode = Literal["text", "binary"]
HeaderInput = Mapping[str, str] | Iterable[tuple[bytes, bytes]]

_CLOSE_UNSUPPORTED_DATA = 1003
_CLOSE_INVALID_PAYLOAD = 1007


class WebSocketState(enum.Enum):
    """Where one side of a websocket stands."""

    CONNECTING = 0
    """The handshake has not completed."""
    CONNECTED = 1
    """The handshake completed; messages may flow."""
    DISCONNECTED = 2
    """This side has closed or gone away."""


class WebSocketDisconnect(Exception):  # noqa: N818 - the name FastAPI and Starlette users know
    """The client closed the websocket (or went away) with `code` and `reason`."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        """The close code given by the client (1006 when the connection dropped)."""
        self.reason = reason or ""
        """The close reason given by the client."""
        super().__init__(code, self.reason)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class WebSocket(HTTPConnection):
    """A websocket connection: accept it, exchange messages, close it.

    `receive()` and `send()` exchange raw ASGI messages while keeping the state machine
    up to date; the typed helpers (`receive_text`, `send_json`, ...) are what handlers
    normally use.
    """

    # `HTTPConnection` stores the raw ASGI channels in attributes named `receive` and
    # `send`; a websocket exposes state-tracking methods under those names (the API users
    # know), so the two properties below keep the channels in `_receive` and `_send`.
    __slots__ = ("_receive", "_send", "application_state", "client_state")

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "websocket":
            raise ValueError(f"WebSocket needs a 'websocket' scope, not {scope.get('type')!r}")
        super().__init__(scope, receive, send)
        self.client_state = WebSocketState.CONNECTING
        """The client's side of the connection."""
        self.application_state = WebSocketState.CONNECTING
        """The application's side of the connection."""

    @property
    def receive(self) -> Receive:
        """Receive the next raw ASGI message (`websocket.connect/receive/disconnect`)."""
        return self._receive_message

    @receive.setter
    def receive(self, channel: Receive) -> None:
        self._receive = channel

    @property
    def send(self) -> Send:
        """Send a raw ASGI message (`websocket.accept/send/close`)."""
        return self._send_message

    @send.setter
    def send(self, channel: Send | None) -> None:
        self._send = channel

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self.scope.get("subprotocols", ()))

    async def _receive_message(self) -> Message:
        state = self.client_state
        if state is WebSocketState.DISCONNECTED:
            raise RuntimeError(
                "cannot receive: the client has already disconnected "
                '(a "websocket.disconnect" message was received)'
            )
        message = await self._receive()
        kind = message["type"]
        if state is WebSocketState.CONNECTING:
            if kind != "websocket.connect":
                raise RuntimeError(f'expected "websocket.connect" first, received {kind!r}')
            self.client_state = WebSocketState.CONNECTED
        elif kind == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
        elif kind != "websocket.receive":
            raise RuntimeError(f'expected "websocket.receive" or "disconnect", received {kind!r}')
        return message

    async def _send_message(self, message: Message) -> None:
        kind = message["type"]
        state = self.application_state
        if state is WebSocketState.DISCONNECTED:
            raise RuntimeError(f"cannot send {kind!r}: the websocket is already closed")
        if state is WebSocketState.CONNECTING:
            if kind == "websocket.send":
                raise RuntimeError(
                    "cannot send data before the websocket is accepted; "
                    "call `await websocket.accept()` first"
                )
            if kind not in ("websocket.accept", "websocket.close"):
                raise RuntimeError(f"cannot send {kind!r} during the websocket handshake")
        elif kind == "websocket.accept":
            raise RuntimeError("the websocket is already accepted; `accept()` runs once")
        elif kind not in ("websocket.send", "websocket.close"):
            raise RuntimeError(f"cannot send {kind!r} on an open websocket")
        elif kind == "websocket.send" and self.client_state is WebSocketState.DISCONNECTED:
            # A receive (another task's, often) saw the client leave. Some servers
            # (Granian over ASGI) drop such frames silently: say so here, as others do.
            self.application_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(1006)
        if kind == "websocket.close":
            self.application_state = WebSocketState.DISCONNECTED
            if self.client_state is WebSocketState.DISCONNECTED:
                return  # the client is gone; there is nobody to tell
        elif kind == "websocket.accept":
            self.application_state = WebSocketState.CONNECTED
        await self._send_raw(message)

    async def _send_raw(self, message: Message) -> None:
        if self._send is None:
            raise RuntimeError("this websocket has no ASGI send channel")
        try:
            await self._send(message)
        except OSError:
            # ASGI servers raise an OSError subclass when sending to a client that left.
            self.application_state = WebSocketState.DISCONNECTED
            self.client_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(1006) from None

    async def accept(
        self, subprotocol: str | None = None, headers: HeaderInput | None = None
    ) -> None:
        """Complete the handshake, optionally choosing one of the offered subprotocols.

        Raises:
            ValueError: `subprotocol` is not one the client offered.
        """
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive()
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(
                f"subprotocol {subprotocol!r} was not offered by the client "
                f"(offered: {self.subprotocols!r})"
            )
        message: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        message["headers"] = _raw_headers(headers)
        await self.send(message)

    def _require_connected(self) -> None:
        if self.application_state is not WebSocketState.CONNECTED:
            if self.application_state is WebSocketState.CONNECTING:
                raise RuntimeError(
                    "the websocket is not accepted yet; call `await websocket.accept()` first"
                )
            raise RuntimeError("the websocket is already closed")

    async def _receive_data(self) -> Message:
        self._require_connected()
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    async def receive_text(self) -> str:
        """Wait for a text message and return it.

        Raises:
            WebSocketDisconnect: the client closed the connection.
            WebSocketException: the client sent a binary message (close code 1003).
        """
        return _text_of(await self._receive_data())

    async def receive_bytes(self) -> bytes:
        """Wait for a binary message and return it.

        Raises:
            WebSocketDisconnect: the client closed the connection.
            WebSocketException: the client sent a text message (close code 1003).
        """
        return _bytes_of(await self._receive_data())

    async def receive_json(self, mode: Mode = "text") -> Any:
        """Wait for a JSON message (in a text or binary frame, per `mode`) and decode it.

        Raises:
            WebSocketDisconnect: the client closed the connection.
            WebSocketException: the frame type is wrong (1003) or the JSON malformed (1007).
        """
        _check_mode(mode)
        message = await self._receive_data()
        data = _text_of(message) if mode == "text" else _bytes_of(message)
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise WebSocketException(_CLOSE_INVALID_PAYLOAD, f"Malformed JSON: {exc}") from None

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield binary messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            return

    async def iter_json(self, mode: Mode = "text") -> AsyncIterator[Any]:
        """Yield decoded JSON messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json(mode)
        except WebSocketDisconnect:
            return

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: Mode = "text") -> None:
        """Send `data` encoded as JSON (orjson) in a text or binary frame, per `mode`."""
        _check_mode(mode)
        encoded = orjson.dumps(data, default=json_default)
        if mode == "text":
            await self.send_text(encoded.decode())
        else:
            await self.send_bytes(encoded)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the websocket; before `accept()` this rejects the handshake (HTTP 403)."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})


def _raw_headers(headers: HeaderInput | None) -> list[tuple[bytes, bytes]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return [(bytes(k).lower(), bytes(v)) for k, v in headers]


def _check_mode(mode: str) -> None:
    if mode not in ("text", "binary"):
        raise ValueError(f'mode must be "text" or "binary", not {mode!r}')


def _text_of(message: Message) -> str:
    text = message.get("text")
    if text is None:
        raise WebSocketException(_CLOSE_UNSUPPORTED_DATA, "Expected a text message")
    return text  # type: ignore[no-any-return]


def _bytes_of(message: Message) -> bytes:
    data = message.get("bytes")
    if data is None:
        raise WebSocketException(_CLOSE_UNSUPPORTED_DATA, "Expected a binary message")
    return data  # type: ignore[no-any-return]
