"""The app's lifespan: start-up and shutdown around serving, and ASGI's lifespan messages.

`App.lifespan_context()` runs, in order: the app's thread pool, the `on_startup`
handlers, each plugin's `lifespan`, the app's and its routers' lifespans, then those of
mounted trivium apps; shutdown first tears down the app-scoped dependencies (while what
the lifespans set up still exists), then undoes the rest in reverse and runs
`on_shutdown` last. A mapping yielded along the way becomes the seed of every request's `request.state`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import ConfigurationError
from trivium.routing._router import lifespan_as_context
from trivium.routing._router import maybe_await
from trivium.routing._ws_route import Mount

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.types import Receive
    from trivium.types import Scope
    from trivium.types import Send

__all__ = ["app_lifespan", "asgi_lifespan"]

logger = logging.getLogger("trivium.error")


@contextlib.asynccontextmanager
async def app_lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
    """Run `app`'s start-up, yield the state its lifespans gave, then its shutdown."""
    from trivium.app import App

    app.build()
    app.app_scope.start(app.http_config.thread_pool_size)
    state: dict[str, Any] = {}
    for func in app.on_startup:
        await maybe_await(func())
    try:
        async with contextlib.AsyncExitStack() as stack:
            # Closed first at shutdown (below), while what the lifespans set up still
            # exists; this one closes what a failed start-up or a lifespan's exit created.
            stack.push_async_callback(_close_app_scope, app)
            for plugin in app.plugins:
                context = plugin.lifespan(app)
                if context is not None:
                    value = await stack.enter_async_context(context)
                    if isinstance(value, Mapping):
                        state.update(value)
            for lifespan in app.lifespans:
                value = await stack.enter_async_context(lifespan_as_context(lifespan, app))
                if isinstance(value, Mapping):
                    state.update(value)
            for route in app.routes:
                if isinstance(route, Mount) and isinstance(route.app, App):
                    state.update(await stack.enter_async_context(route.app.lifespan_context()))
            stack.push_async_callback(_close_app_scope, app)
            yield state
    finally:
        for func in app.on_shutdown:
            await maybe_await(func())


async def _close_app_scope(app: App) -> None:
    """Tear down the app-scoped dependencies; log a teardown's error, as for a request's."""
    error = await app.app_scope.close()
    if error is None:
        return
    if not isinstance(error, Exception):
        raise error  # a cancellation, say: not a dependency's failure
    app.log_teardown_error(error)


async def asgi_lifespan(app: App, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer an ASGI server's lifespan messages around `app.lifespan_context()`."""
    message = await receive()
    if message["type"] != "lifespan.startup":  # pragma: no cover - protocol violation
        return
    started = False
    try:
        async with app.lifespan_context() as state:
            if state and "state" in scope:
                scope["state"].update(state)
            await send({"type": "lifespan.startup.complete"})
            started = True
            await receive()
    except BaseException as exc:
        if isinstance(exc, ConfigurationError):
            logger.error("lifespan failed: %s", exc.one_line())
        else:
            logger.exception("lifespan failed")
        kind = "shutdown" if started else "startup"
        await send({"type": f"lifespan.{kind}.failed", "message": f"{type(exc).__name__}: {exc}"})
        raise
    await send({"type": "lifespan.shutdown.complete"})
