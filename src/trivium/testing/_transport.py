"""httpx transports that serve requests with an ASGI app in-process.

`TestTransport` (sync) runs the app on an event loop in a background thread, reached
through an anyio blocking portal: the client's own portal while it runs the lifespan,
otherwise a portal opened for the request and closed with the response. The async
`AsyncTestTransport` runs the app on the caller's loop: in the client's task group while
it runs the lifespan, otherwise as a plain asyncio task (a task group cannot outlive the
call that returns the response, and the response body must keep streaming after it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
from anyio.abc import TaskGroup
from anyio.from_thread import BlockingPortal
from anyio.from_thread import start_blocking_portal

from trivium.testing._exchange import CLOSE_GRACE
from trivium.testing._exchange import HTTPExchange
from trivium.testing._exchange import TestConfig
from trivium.testing._exchange import connection_scope
from trivium.testing._exchange import failed_response
from trivium.types import Message

__all__ = ["AsyncTestTransport", "TestTransport"]


class TestTransport(httpx.BaseTransport):
    """Serve httpx requests with an ASGI app running on a background event loop."""

    __test__ = False

    def __init__(self, config: TestConfig) -> None:
        self.config = config
        """The app and the client's options."""
        self.portal: BlockingPortal | None = None
        """The portal of the running lifespan; `None` outside `with TestClient(...)`."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app for `request` and return a response whose body streams from it."""
        body = request.read()
        scope = connection_scope(request, self.config)
        with contextlib.ExitStack() as stack:
            portal = self.portal
            if portal is None:
                portal = stack.enter_context(start_blocking_portal())
            exchange = portal.call(HTTPExchange, scope, body)
            portal.start_task_soon(exchange.run_app, self.config)
            try:
                start = portal.call(exchange.response_start)
            except BaseException:
                portal.call(exchange.close, 0)
                raise
            if start is None:
                portal.call(exchange.close)
                return failed_response(self.config, exchange.error, request)
            stream = _SyncBody(self.config, exchange, portal, stack.pop_all())
        return _response(start, stream, request)


class _SyncBody(httpx.SyncByteStream):
    def __init__(
        self,
        config: TestConfig,
        exchange: HTTPExchange,
        portal: BlockingPortal,
        cleanup: contextlib.ExitStack,
    ) -> None:
        self._config = config
        self._exchange = exchange
        self._portal = portal
        self._cleanup = cleanup
        self._closed = False
        self._reported = False

    def __iter__(self) -> Iterator[bytes]:
        next_chunk = self._exchange.next_chunk
        while (chunk := self._portal.call(next_chunk)) is not None:
            if chunk:
                yield chunk
        self._finish()

    def _finish(self) -> None:
        self._portal.call(self._exchange.close, CLOSE_GRACE)
        error = self._exchange.error
        if error is not None and self._config.raise_server_exceptions and not self._reported:
            self._reported = True
            raise error

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._finish()
        finally:
            self._cleanup.close()


class AsyncTestTransport(httpx.AsyncBaseTransport):
    """Serve httpx requests with an ASGI app running on the caller's event loop."""

    __test__ = False

    def __init__(self, config: TestConfig) -> None:
        self.config = config
        """The app and the client's options."""
        self.task_group: TaskGroup | None = None
        """The task group of the running lifespan; `None` outside `async with`."""
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app for `request` and return a response whose body streams from it."""
        body = await request.aread()
        exchange = HTTPExchange(connection_scope(request, self.config), body)
        self._spawn(exchange.run_app)
        try:
            start = await exchange.response_start()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await exchange.close(0)
            raise
        if start is None:
            await exchange.close()
            return failed_response(self.config, exchange.error, request)
        return _response(start, _AsyncBody(self.config, exchange), request)

    def _spawn(self, func: Callable[[TestConfig], Coroutine[Any, Any, None]]) -> None:
        if self.task_group is not None:
            self.task_group.start_soon(func, self.config)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "outside `async with`, AsyncTestClient runs only on asyncio; "
                "use `async with AsyncTestClient(app) as client:`"
            ) from None
        task = loop.create_task(func(self.config))
        self._tasks.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, config: TestConfig, exchange: HTTPExchange) -> None:
        self._config = config
        self._exchange = exchange
        self._reported = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._exchange.next_chunk()) is not None:
            if chunk:
                yield chunk
        await self.aclose()

    async def aclose(self) -> None:
        await self._exchange.close(CLOSE_GRACE)
        error = self._exchange.error
        if error is not None and self._config.raise_server_exceptions and not self._reported:
            self._reported = True
            raise error


def _response(
    start: Message, stream: httpx.SyncByteStream | httpx.AsyncByteStream, request: httpx.Request
) -> httpx.Response:
    headers = [(bytes(key), bytes(value)) for key, value in start.get("headers", ())]
    return httpx.Response(
        start["status"],
        headers=headers,
        stream=stream,
        request=request,
        extensions={"http_version": b"HTTP/1.1"},
    )
