"""The legacy app behind trivium's routes, and routes that migrate away from it.

`Legacy` is a plugin contributing one fallback `Mount`: every path no trivium route
matches, and every method a matched path's routes don't answer, goes to the legacy app.
A route moves by being written in trivium. `Legacy.router(...)` builds a `Router` whose
routes decide per request who answers (`Switch`): trivium for a share of the requests or
when a canary header asks for it, the legacy app otherwise; in shadow mode both run,
the legacy app answers and differences are logged. The decision is routing, made
before the request body is read, so both sides see the request untouched.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from trivium.errors import ConfigurationError
from trivium.interop._cookies import check_session_cookies
from trivium.interop._cookies import legacy_session_cookie
from trivium.interop._shadow import Shadow
from trivium.interop._shadow import ShadowReport
from trivium.interop._wsgi import WSGIApp
from trivium.plugins import Plugin
from trivium.routing import Mount
from trivium.routing import Route
from trivium.routing import Router
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from trivium.app import App
    from trivium.http import Request
    from trivium.routing import BaseRoute
    from trivium.types import ASGIApp

__all__ = ["Legacy", "Switch"]


class Switch:
    """Who answers a migrated route: trivium, the legacy app, or both (shadow).

    Args:
        percent: share of requests (0 to 100) trivium answers; the rest go to the legacy app.
        header: a request header that overrides `percent`: `trivium` (or `1`) sends the
            request to trivium, `legacy` (or `0`) to the legacy app.
        shadow: the legacy app answers every request; trivium's handler runs on a copy
            and differences in status and body are logged (and passed to `on_difference`).
        shadow_body_limit: bodies (request and responses) up to this size are compared;
            a larger request is not shadowed.
        on_difference: called with a `ShadowReport` for each difference.
    """

    __slots__ = ("header", "legacy", "percent", "shadow")

    def __init__(  # noqa: PLR0913 - the switch's options, all keyword-only
        self,
        legacy: Mount,
        *,
        percent: float = 100,
        header: str | None = None,
        shadow: bool = False,
        shadow_body_limit: int = 1_048_576,
        on_difference: Callable[[ShadowReport], None] | None = None,
    ) -> None:
        if (
            isinstance(percent, bool)
            or not isinstance(percent, int | float)
            or not 0 <= percent <= 100
        ):
            raise ConfigurationError(
                f"percent={percent!r}: give a number from 0 to 100", "interop-switch"
            )
        if header is not None and (not header or not header.isascii() or " " in header):
            raise ConfigurationError(
                f"header={header!r}: give a header name such as 'x-trivium'", "interop-switch"
            )
        self.legacy = legacy
        self.percent = float(percent)
        self.header = header.lower().encode("latin-1") if header else None
        self.shadow = Shadow(legacy, shadow_body_limit, on_difference) if shadow else None

    def to_trivium(self, scope: Scope) -> bool:
        """Whether trivium answers this request (the header first, then the percentage)."""
        if self.header is not None:
            for name, value in scope["headers"]:
                if name == self.header:
                    choice = value.strip().lower()
                    if choice in (b"trivium", b"1"):
                        return True
                    if choice in (b"legacy", b"0"):
                        return False
        if self.percent >= 100:
            return True
        return self.percent > 0 and random.random() * 100 < self.percent  # noqa: S311 - not security


class MigratedRoute(Route):
    """A trivium route that may hand its request to the legacy app (see `Switch`)."""

    __slots__ = ()
    switch: ClassVar[Switch]

    async def handle(  # noqa: PLR0913 - Route.handle's signature
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        app: App,
        outcome: Any = None,
        request: Request | None = None,
        started: list[Any] | None = None,
    ) -> None:
        """Answer from trivium's handler, the legacy app, or both (shadow)."""
        switch = self.switch
        if outcome is None:
            if switch.shadow is not None:
                await switch.shadow.run(scope, receive, send, app, self._trivium)
                return
            if not switch.to_trivium(scope):
                await switch.legacy.handle(scope, receive, send, app.policy)
                return
        await super().handle(scope, receive, send, app, outcome, request, started)

    async def _trivium(self, scope: Scope, receive: Receive, send: Send, app: App) -> None:
        await super().handle(scope, receive, send, app)


class Legacy(Plugin):
    """Mount a legacy app (WSGI or ASGI) behind the app's routes, as their fallback.

    Args:
        app: a WSGI callable (a Flask app, Django's `get_wsgi_application()`), a
            `WSGIApp`, or an ASGI app.
        path: the prefix the legacy app is served under (`"/"`: everything).
        workers: thread pool size when `app` is a WSGI callable.
        name: the mount's route name.
    """

    unique = False

    def __init__(
        self,
        app: Any,
        *,
        path: str = "/",
        workers: int = 10,
        name: str = "legacy",
    ) -> None:
        if isinstance(app, WSGIApp) or _is_asgi(app):
            asgi: ASGIApp = app
        else:
            asgi = WSGIApp(app, workers=workers)
        self.app = asgi
        """The ASGI face of the legacy app."""
        self.mount = Mount(path, asgi, name, fallback=True)
        """The fallback mount this plugin adds to the app."""

    def routes(self, app: App) -> Sequence[Router | BaseRoute]:
        """Contribute the fallback mount, once its session cookie is known not to clash.

        Checked here rather than in `setup`: `Auth` installs its `Sessions` when the app
        is built, and every plugin is set up by the time routes are collected.

        Raises:
            ConfigurationError: the legacy app's session cookie (a Flask app's or a
                Django project's) has the name of trivium's (`interop-cookie-clash`).
        """
        check_session_cookies(app, [legacy_session_cookie(self.app)])
        return [self.mount]

    def lifespan(self, app: App) -> AbstractAsyncContextManager[None] | None:
        """Stop the WSGI thread pool at shutdown."""
        if not isinstance(self.app, WSGIApp):
            return None
        return _closing(self.app)

    def router(  # noqa: PLR0913 - the switch's options
        self,
        prefix: str = "",
        *,
        percent: float = 100,
        header: str | None = None,
        shadow: bool = False,
        shadow_body_limit: int = 1_048_576,
        on_difference: Callable[[ShadowReport], None] | None = None,
        **options: Any,
    ) -> Router:
        """Return a `Router` whose routes answer as the `Switch` with these options decides.

        Methods a route does not declare still reach the legacy app (the fallback).
        Extra keyword arguments go to `Router` (`tags`, `dependencies`, ...).
        """
        switch = Switch(
            self.mount,
            percent=percent,
            header=header,
            shadow=shadow,
            shadow_body_limit=shadow_body_limit,
            on_difference=on_difference,
        )
        route_class = type("MigratedRoute", (MigratedRoute,), {"__slots__": (), "switch": switch})
        return Router(prefix=prefix, route_class=route_class, **options)


def _is_asgi(app: Any) -> bool:
    import inspect

    call = app if inspect.isfunction(app) else getattr(app, "__call__", None)  # noqa: B004
    if call is None:
        return False
    if inspect.iscoroutinefunction(call):
        return True
    return hasattr(app, "__rsgi__")


@asynccontextmanager
async def _closing(app: WSGIApp) -> AsyncIterator[None]:
    try:
        yield
    finally:
        app.close()
