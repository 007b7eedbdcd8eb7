"""Drive an app's RSGI entry point from an ASGI caller, for tests.

`RSGIBridge(app)` is an ASGI app that turns each ASGI connection into the RSGI scope and
protocol objects Granian would pass to `app.__rsgi__`, so the test client (and the
whole test suite) can exercise the RSGI path in-process. Like Granian, the protocol's
`response_*` calls are synchronous: the bridge forwards them through a channel so the
response reaches the client before the app finishes its background work.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectSendStream

from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["RSGIBridge"]


class _Headers:
    __slots__ = ("_items",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._items = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def keys(self) -> list[str]:
        return [k for k, _ in self._items]

    def values(self) -> list[str]:
        return [v for _, v in self._items]

    def get(self, key: str, default: Any = None) -> Any:
        key = key.lower()
        for k, v in self._items:
            if k == key:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        key = key.lower()
        return [v for k, v in self._items if k == key]

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None


@dataclass(slots=True)
class _Scope:
    proto: str
    http_version: str
    rsgi_version: str
    server: str
    client: str
    scheme: str
    method: str
    path: str
    query_string: str
    authority: str | None
    headers: _Headers


def _rsgi_scope(scope: Scope) -> _Scope:
    client = scope.get("client") or ("127.0.0.1", 0)
    server = scope.get("server") or ("127.0.0.1", 80)
    scheme = scope.get("scheme", "http")
    proto = "http" if scope["type"] == "http" else "ws"
    if proto == "ws":
        scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return _Scope(
        proto=proto,
        http_version=scope.get("http_version", "1.1"),
        rsgi_version="1.5",
        server=f"{server[0]}:{server[1]}",
        client=f"{client[0]}:{client[1]}",
        scheme=scheme,
        method=scope.get("method", "GET"),
        path=scope["path"],
        query_string=scope.get("query_string", b"").decode(errors="replace"),  # Granian: UTF-8
        authority=None,
        headers=_Headers(scope.get("headers", [])),
    )


class _StreamTransport:
    def __init__(self, out: MemoryObjectSendStream[Message]) -> None:
        self._out = out

    async def send_bytes(self, data: bytes) -> None:
        await self._out.send({"type": "http.response.body", "body": data, "more_body": True})

    async def send_str(self, data: str) -> None:
        await self.send_bytes(data.encode())


class _HTTPProtocol:
    def __init__(self, receive: Receive, out: MemoryObjectSendStream[Message]) -> None:
        self._receive = receive
        self._out = out
        self._streaming = False
        self._body_done = False

    async def __call__(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def _chunks(self) -> AsyncIterator[bytes]:
        while not self._body_done:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._body_done = True
                return
            self._body_done = not message.get("more_body", False)
            if message.get("body"):
                yield message["body"]

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def client_disconnect(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                return

    def _start(self, status: int, headers: list[tuple[str, str]], more: bool, body: bytes) -> None:
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        self._out.send_nowait({"type": "http.response.start", "status": status, "headers": raw})
        self._out.send_nowait({"type": "http.response.body", "body": body, "more_body": more})

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self._start(status, headers, False, b"")

    def response_str(self, status: int, headers: list[tuple[str, str]], body: str) -> None:
        self._start(status, headers, False, body.encode())

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self._start(status, headers, False, body)

    def response_file(self, status: int, headers: list[tuple[str, str]], file: str) -> None:
        with open(file, "rb") as handle:  # noqa: PTH123 - mirrors Granian's sync file send
            self._start(status, headers, False, handle.read())

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> _StreamTransport:
        self._start(status, headers, True, b"")
        self._streaming = True
        return _StreamTransport(self._out)

    async def finish(self) -> None:
        """End a streamed body; waits for room when the client reads slower than the app sends."""
        if self._streaming:
            await self._out.send({"type": "http.response.body", "body": b"", "more_body": False})


@dataclass(slots=True)
class _WSMessage:
    kind: int
    data: Any


class _WSTransport:
    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send

    async def receive(self) -> _WSMessage:
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            return _WSMessage(0, None)
        if message.get("text") is not None:
            return _WSMessage(2, message["text"])
        return _WSMessage(1, message.get("bytes") or b"")

    async def send_bytes(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def send_str(self, data: str) -> None:
        await self._send({"type": "websocket.send", "text": data})


class _WSProtocol:
    def __init__(self, receive: Receive, send: Send, tasks: anyio.abc.TaskGroup) -> None:
        self._receive = receive
        self._send = send
        self._tasks = tasks
        self._accepted = False

    async def accept(self) -> _WSTransport:
        self._accepted = True
        await self._send({"type": "websocket.accept"})
        return _WSTransport(self._receive, self._send)

    def close(self, status: int | None) -> tuple[int, bool]:
        code = status or 1000
        messages: list[Message] = [{"type": "websocket.close", "code": code}]
        if not self._accepted:
            # Granian answers a refused handshake with `status` as its HTTP status (and
            # its worker dies on one that is not): the client sees that response.
            if not 100 <= code <= 599:
                raise RuntimeError(f"RSGI websocket refused with {code}, not an HTTP status")
            messages = [
                {"type": "websocket.http.response.start", "status": code, "headers": []},
                {"type": "websocket.http.response.body", "body": b""},
            ]

        async def send_close() -> None:
            for message in messages:
                await self._send(message)

        self._tasks.start_soon(send_close)
        return code, True


class RSGIBridge:
    """An ASGI app that serves every connection through `app.__rsgi__`."""

    def __init__(self, app: Any) -> None:
        if not hasattr(app, "__rsgi__"):
            raise TypeError(f"{app!r} has no __rsgi__ entry point")
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection over RSGI."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:
            await self._websocket(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        out, inbox = anyio.create_memory_object_stream[Message](64)
        protocol = _HTTPProtocol(receive, out)

        async def forward() -> None:
            async with inbox:
                async for message in inbox:
                    await send(message)

        error: BaseException | None = None
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(forward)
            try:
                await self.app.__rsgi__(_rsgi_scope(scope), protocol)
                await protocol.finish()
            except Exception as exc:  # noqa: BLE001 - re-raised once the response is out
                error = exc
            finally:
                out.close()
        if error is not None:
            raise error

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        async with anyio.create_task_group() as tasks:
            await self.app.__rsgi__(_rsgi_scope(scope), _WSProtocol(receive, send, tasks))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()
        try:
            context: contextlib.AbstractAsyncContextManager[Any] = self.app.lifespan_context()
            async with context as state:
                self.app._lifespan_state = state
                await send({"type": "lifespan.startup.complete"})
                await receive()
        except BaseException as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            raise
        await send({"type": "lifespan.shutdown.complete"})
