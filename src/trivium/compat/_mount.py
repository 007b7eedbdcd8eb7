"""Starlette's `Mount`, which also takes a list of routes instead of an app.

`Mount(path, routes=[...])` serves its routes as a small app of their own under the
prefix. Starlette serves them in the parent app, with its exception handlers and state:
a compat `FastAPI` or `Starlette` app hands those to the group when it is built
(`adopt_mounted_routes`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from trivium.app import App
from trivium.middleware import Middleware
from trivium.routing import BaseRoute
from trivium.routing import Mount as _Mount
from trivium.types import ASGIApp

__all__ = ["Mount", "adopt_mounted_routes"]


class _MountedRoutes(App):
    """The routes of a `Mount(path, routes=[...])`, served as one app under the prefix."""

    def __init__(self, routes: Sequence[BaseRoute], middleware: Sequence[Middleware]) -> None:
        super().__init__(
            routes=routes, middleware=middleware, openapi_url=None, security_headers=False
        )

    def adopt(self, parent: App) -> None:
        """Answer errors, keep state and follow the redirect and error rules as `parent` does."""
        self.exception_handlers = parent.exception_handlers
        self.state = parent.state
        self.debug = parent.debug
        # The parent adds its default headers to what the mount answers.
        self.http_config = dataclasses.replace(
            parent.http_config, root_path="", security_headers=False
        )
        adopt_mounted_routes(self)


class Mount(_Mount):
    """Starlette's `Mount`: an ASGI `app`, or a list of `routes`, served under `path`.

    Raises:
        TypeError: neither or both of `app` and `routes` are given.
    """

    __slots__ = ()

    def __init__(
        self,
        path: str,
        app: ASGIApp | None = None,
        routes: Sequence[BaseRoute] | None = None,
        name: str | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        if (app is None) == (routes is None):
            raise TypeError("Mount() takes either app=... or routes=[...], not both or neither")
        if app is None:
            app = _MountedRoutes(routes or (), middleware or ())
        elif middleware:
            for item in reversed(middleware):
                app = item.build(app)
        super().__init__(path, app, name)

    @property
    def routes(self) -> list[BaseRoute]:
        """The mounted routes (those of the mounted app; empty for another ASGI app)."""
        return list(getattr(self.app, "routes", ()))


def adopt_mounted_routes(app: App) -> None:
    """Give the `Mount(path, routes=[...])` groups of `app` its error handling and state."""
    for route in app.routes:
        if isinstance(route, _Mount) and isinstance(route.app, _MountedRoutes):
            route.app.adopt(app)
