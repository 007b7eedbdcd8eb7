"""Websockets over RSGI: the ASGI `receive` and `send` of a Granian websocket.

Granian's websocket protocol is accepted, read and written through a transport object;
these channels turn it into ASGI messages, so `WebSocket` and the routes behave as on
an ASGI server. What RSGI can't carry (a subprotocol or headers in the handshake, a
close code after it) is listed in docs/websockets.md.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from types import CoroutineType
from typing import Any

from trivium.types import Message

__all__ = ["websocket_adapters"]


def websocket_adapters(
    protocol: Any,
) -> tuple[Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]]:
    """Return ASGI `receive` and `send` for an RSGI websocket."""
    channels = _WebSocketChannels(protocol)
    return channels.receive, channels.send


class _WebSocketChannels:
    """The ASGI channels of one RSGI websocket.

    The transport `accept()` returns is dropped as soon as the connection ends (the
    client's close frame received, or `websocket.close` sent): it holds the stream's
    receiving half, and Granian shuts the TCP connection only once both halves are freed,
    so while the transport lives the socket stays open, a close frame sent or not. The
    channels may well outlive the connection: a reference cycle through the `WebSocket`
    (the per-message rate limit's wrapped `receive` makes one) keeps them until the
    cyclic collector runs, which in an idle worker can be never.

    A receive still waiting when the socket closes (the app's `websocket.close`, the
    1011 of a peer that stopped reading) is cancelled: Granian would never end it (the
    stuck peer sends nothing), and its future holds the receiving half too. The handler
    gets `websocket.disconnect` (1006, a closing handshake never completed) and finishes.
    """

    __slots__ = ("closed", "connected", "pending", "protocol", "transport")

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.transport: Any = None
        self.pending: Any = None
        self.connected = False
        self.closed = False

    async def receive(self) -> Message:
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        if self.transport is None or self.closed:
            return {"type": "websocket.disconnect", "code": 1006}
        # No reference to the transport: a `close` sent meanwhile must be able to free it.
        pending = self.transport.receive()
        if type(pending) is CoroutineType:  # an `async def` double (trivium.testing's)
            import asyncio

            pending = asyncio.ensure_future(pending)  # cancellable, like Granian's future
        self.pending = pending
        try:
            message = await pending
        except RuntimeError as exc:
            from granian._granian import RSGIProtocolClosed

            if not isinstance(exc, RSGIProtocolClosed):
                raise
            # The connection dropped without a close frame: what ASGI servers report.
            self._end()
            return {"type": "websocket.disconnect", "code": 1006}
        except BaseException as exc:
            if exc.args != (_CLOSED,):  # a cancellation of the task's own, say
                raise
            return {"type": "websocket.disconnect", "code": 1006}  # `_end()` cancelled it
        finally:
            self.pending = None
        kind = int(message.kind)
        if kind == 0:
            self._end()
            return {"type": "websocket.disconnect", "code": 1000}
        if kind == 1:
            return {"type": "websocket.receive", "bytes": bytes(message.data)}
        return {"type": "websocket.receive", "text": str(message.data)}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            if message.get("subprotocol") or message.get("headers"):
                _warn_accept_options()
            self.transport = await self.protocol.accept()
        elif kind == "websocket.send":
            transport = self.transport
            if transport is None:
                if self.closed:
                    # What ASGI servers raise when sending to a client that left: the
                    # `WebSocket` turns it into `WebSocketDisconnect(1006)`.
                    raise ConnectionResetError("the websocket is closed")
                raise RuntimeError("websocket.send before websocket.accept")
            try:
                if message.get("text") is not None:
                    await transport.send_str(message["text"])
                else:
                    await transport.send_bytes(bytes(message.get("bytes") or b""))
            except RuntimeError as exc:
                from granian._granian import RSGIProtocolClosed

                if not isinstance(exc, RSGIProtocolClosed):
                    raise
                # The client left: as above, a `WebSocketDisconnect(1006)` for the handler.
                self._end()
                raise ConnectionResetError("the websocket is closed") from None
        elif kind == "websocket.close" and not self.closed:
            # Before `accept()` Granian answers the handshake with `close`'s status as an
            # HTTP status (a close code there ends the worker): 403, as ASGI servers do.
            # After it, Granian sends a close frame without a code (the client sees 1005,
            # see docs/websockets.md) and shuts the socket once the transport is freed:
            # drop it now.
            refused = self.transport is None
            self._end()
            self.protocol.close(403 if refused else message.get("code", 1000))

    def _end(self) -> None:
        self.closed = True
        self.transport = None
        pending = self.pending
        if pending is not None:
            # Cancelling Granian's future drops the receive it runs (and the receiving
            # half it holds); the message tells the waiting `receive` who cancelled it.
            self.pending = None
            pending.cancel(_CLOSED)


_CLOSED = "the websocket closed"


_warned: list[bool] = []


def _warn_accept_options() -> None:
    """Say once per process that RSGI can't send a subprotocol or handshake headers."""
    if _warned:
        return
    _warned.append(True)
    import logging

    logging.getLogger("trivium.websockets").warning(
        "websocket accept(subprotocol=..., headers=...) can't be honoured over RSGI: the "
        "handshake goes out without them (a browser that asked for a subprotocol then "
        "drops the connection); serve with --interface asgi (TRIVIUM_INTERFACE=asgi)"
    )
