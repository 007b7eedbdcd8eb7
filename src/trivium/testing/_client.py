"""`TestClient` and `AsyncTestClient`: httpx clients wired to an ASGI app in-process.

Both are real httpx clients (cookies persist in httpx's jar, redirects are followed,
responses are `httpx.Response`) whose transport calls the app instead of the network.
`with TestClient(app)` / `async with AsyncTestClient(app)` runs the app's lifespan around
the block; without it no lifespan runs.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Mapping
from collections.abc import Sequence
from types import TracebackType
from typing import Any
from typing import Self

import anyio
import httpx
from anyio.from_thread import BlockingPortal
from anyio.from_thread import start_blocking_portal

from trivium.testing._exchange import TestConfig
from trivium.testing._exchange import connection_scope
from trivium.testing._lifespan import LifespanRunner
from trivium.testing._session import AsyncWebSocketTestSession
from trivium.testing._session import WebSocketTestSession
from trivium.testing._transport import AsyncTestTransport
from trivium.testing._transport import TestTransport
from trivium.types import ASGIApp
from trivium.types import Scope

__all__ = ["AsyncTestClient", "TestClient"]

CookieInput = httpx.Cookies | dict[str, str] | None
Address = tuple[str, int] | None


INTERFACE_ENV = "TRIVIUM_TEST_INTERFACE"
"""Set to `rsgi` to drive apps that have an RSGI entry point through it in every test."""


def served_app(app: ASGIApp) -> ASGIApp:
    """Return `app`, or its RSGI bridge when `TRIVIUM_TEST_INTERFACE=rsgi` is set."""
    if os.environ.get(INTERFACE_ENV, "asgi").lower() == "rsgi" and hasattr(app, "__rsgi__"):
        from trivium.testing._rsgi import RSGIBridge

        return RSGIBridge(app)
    return app


class TestClient(httpx.Client):
    """A synchronous httpx client that serves requests with `app` in-process.

    The app runs on an event loop in a background thread, so plain (sync) tests can use
    it. Response bodies stream from the app: `with client.stream("GET", url) as r:` reads
    an endless event stream chunk by chunk, and leaving the block disconnects the client.

    Args:
        app: the ASGI application under test.
        base_url: where relative URLs point; its host is the `Host` header.
        raise_server_exceptions: re-raise an exception escaping the app in the test;
            when off the client sees the 500 the app (or a server) would send.
        root_path: the ASGI `root_path`, as a server started behind a proxy prefix would
            set it; request paths are prefixed with it.
        cookies: cookies to start with.
        headers: default headers for every request (a `user-agent` of `testclient`).
        follow_redirects: whether redirects are followed.
        client: the peer address in the scope.
    """

    __test__ = False

    def __init__(  # noqa: PLR0913 - the options Starlette and FastAPI users know
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: CookieInput = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        client: Address = ("testclient", 50000),
    ) -> None:
        self.app = app
        """The application under test."""
        self._config = TestConfig(served_app(app), raise_server_exceptions, root_path, client)
        self._asgi = TestTransport(self._config)
        self._lifespan: LifespanRunner | None = None
        self._lifespan_stack: contextlib.ExitStack | None = None
        super().__init__(
            base_url=base_url,
            headers=_default_headers(headers),
            cookies=cookies,
            transport=self._asgi,
            follow_redirects=follow_redirects,
        )

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        params: Any = None,
        cookies: Any = None,
    ) -> WebSocketTestSession:
        """Open a websocket to `url`; use the session in a `with` block.

        `params` and `cookies` are httpx's (query parameters; cookies for this handshake
        only, on top of the client's).

        Raises:
            WebSocketRejected: (on entering) the app closed or denied the handshake.
        """
        handshake = (subprotocols, headers, params, cookies)
        return WebSocketTestSession(
            _handshake_scope(self, self._config, url, *handshake), self._asgi
        )

    @property
    def portal(self) -> BlockingPortal | None:
        """The anyio portal of the app's event loop inside `with TestClient(app)`.

        As on Starlette's client: `client.portal.call(reset_db)` runs a coroutine on the
        loop the lifespan's engines and pools belong to. `None` outside the block.
        """
        return self._asgi.portal

    def __enter__(self) -> Self:
        """Start the app's lifespan; requests in the block share its event loop and state.

        Raises:
            Exception: the app's start-up failed (its own exception, or `LifespanError`).
        """
        if self._lifespan_stack is not None:
            raise RuntimeError("this TestClient is already running its lifespan")
        stack = contextlib.ExitStack()
        portal = stack.enter_context(start_blocking_portal())
        self._config.state = {}
        lifespan = portal.call(LifespanRunner, self._config.state)
        portal.start_task_soon(lifespan.run_app, self._config)
        try:
            portal.call(lifespan.startup)
        except BaseException:
            portal.call(self._config.cancel_active)
            stack.close()
            raise
        self._asgi.portal = portal
        self._lifespan = lifespan
        self._lifespan_stack = stack
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        """Run the app's shutdown and stop the event loop (the client stays usable)."""
        stack, self._lifespan_stack = self._lifespan_stack, None
        portal, self._asgi.portal = self._asgi.portal, None
        if stack is None or portal is None or self._lifespan is None:
            return
        try:
            try:
                portal.call(self._lifespan.shutdown)
            except Exception:
                if exc_type is None:
                    raise  # otherwise the test's own exception is the one to see
            finally:
                portal.call(self._config.cancel_active)
        finally:
            stack.close()


class AsyncTestClient(httpx.AsyncClient):
    """An async httpx client that serves requests with `app` on the caller's event loop.

    `async with AsyncTestClient(app) as client:` runs the lifespan and serves requests
    in the client's task group (any anyio backend); without it requests run as asyncio
    tasks. The arguments are those of `TestClient`.
    """

    __test__ = False

    def __init__(  # noqa: PLR0913 - the options Starlette and FastAPI users know
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: CookieInput = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        client: Address = ("testclient", 50000),
    ) -> None:
        self.app = app
        """The application under test."""
        self._config = TestConfig(served_app(app), raise_server_exceptions, root_path, client)
        self._asgi = AsyncTestTransport(self._config)
        self._lifespan: LifespanRunner | None = None
        self._lifespan_stack: contextlib.AsyncExitStack | None = None
        super().__init__(
            base_url=base_url,
            headers=_default_headers(headers),
            cookies=cookies,
            transport=self._asgi,
            follow_redirects=follow_redirects,
        )

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        params: Any = None,
        cookies: Any = None,
    ) -> AsyncWebSocketTestSession:
        """Open a websocket to `url`; use the session in an `async with` block.

        `params` and `cookies` as for `TestClient.websocket_connect`.

        Raises:
            WebSocketRejected: (on entering) the app closed or denied the handshake.
        """
        handshake = (subprotocols, headers, params, cookies)
        scope = _handshake_scope(self, self._config, url, *handshake)
        return AsyncWebSocketTestSession(scope, self._config)

    async def __aenter__(self) -> Self:
        """Start the app's lifespan; requests in the block run in the client's task group.

        Raises:
            Exception: the app's start-up failed (its own exception, or `LifespanError`).
        """
        if self._lifespan_stack is not None:
            raise RuntimeError("this AsyncTestClient is already running its lifespan")
        stack = contextlib.AsyncExitStack()
        group = await stack.enter_async_context(anyio.create_task_group())
        self._config.state = {}
        lifespan = LifespanRunner(self._config.state)
        group.start_soon(lifespan.run_app, self._config)
        try:
            await lifespan.startup()
        except BaseException:
            self._config.cancel_active()
            await stack.aclose()
            raise
        self._asgi.task_group = group
        self._lifespan = lifespan
        self._lifespan_stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        """Run the app's shutdown and cancel what is still running (the client stays usable)."""
        stack, self._lifespan_stack = self._lifespan_stack, None
        self._asgi.task_group = None
        if stack is None or self._lifespan is None:
            return
        try:
            try:
                await self._lifespan.shutdown()
            except Exception:
                if exc_type is None:
                    raise  # otherwise the test's own exception is the one to see
            finally:
                self._config.cancel_active()
        finally:
            await stack.aclose()


def _default_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    merged = {"user-agent": "testclient"}
    merged.update(headers or {})
    return merged


def _handshake_scope(  # noqa: PLR0913 - websocket_connect's arguments
    client: httpx.Client | httpx.AsyncClient,
    config: TestConfig,
    url: str,
    subprotocols: Sequence[str] | None,
    headers: Mapping[str, str] | None,
    params: Any,
    cookies: Any,
) -> Scope:
    """The scope of a websocket handshake to `url`, built as `client` builds a request."""
    request = client.build_request(
        "GET",
        url,
        params=params,
        headers=_handshake_headers(subprotocols, headers),
        cookies=cookies,
    )
    return connection_scope(request, config, "websocket", list(subprotocols or ()))


def _handshake_headers(
    subprotocols: Sequence[str] | None, headers: Mapping[str, str] | None
) -> dict[str, str]:
    handshake = {
        "connection": "upgrade",
        "upgrade": "websocket",
        "sec-websocket-key": base64.b64encode(os.urandom(16)).decode(),
        "sec-websocket-version": "13",
    }
    if subprotocols:
        handshake["sec-websocket-protocol"] = ", ".join(subprotocols)
    handshake.update(headers or {})
    return handshake
