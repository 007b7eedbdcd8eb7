"""`starlette.applications`: `Starlette`, a trivium `App` without the API docs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from trivium.app import App
from trivium.compat._mount import adopt_mounted_routes
from trivium.middleware import Middleware

__all__ = ["Starlette"]


class Starlette(App):
    """Starlette's application: routes, middleware, exception handlers and a lifespan.

    It is trivium's `App` with no OpenAPI document or docs pages (Starlette has none).
    """

    def __init__(  # noqa: PLR0913 - Starlette's options
        self,
        debug: bool = False,
        routes: Sequence[Any] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, Callable[..., Any]] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__(
            debug=debug,
            routes=routes,
            middleware=middleware,
            exception_handlers=exception_handlers,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            lifespan=lifespan,
            openapi_url=None,
        )
        self.http_config = dataclasses.replace(
            self.http_config, slash_redirect_status=307, slash_redirect_absolute=True
        )

    def build(self) -> None:
        """Compile the app, its `Mount(path, routes=[...])` groups serving as part of it."""
        adopt_mounted_routes(self)
        super().build()
