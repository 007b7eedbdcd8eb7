"""`Sessions`: server-side sessions as a plugin, compiled into the routes that use them.

A route whose handler or dependencies take the `Request` (or `WebSocket`) gets the
session step; other routes never see a session and cost nothing. On such a route a
request without the cookie gets an empty session without touching the store; one with
the cookie reads the store once. The session is saved (and the cookie set) once the
response is ready, error responses included.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.sessions._manager import SessionManager
from trivium.sessions._session import Session

if TYPE_CHECKING:
    from trivium.http import HTTPConnection
    from trivium.http import Request
    from trivium.http import Response

__all__ = ["SessionStep", "Sessions"]


class SessionStep(RequestStep):
    """Load the session before the handler, save it after (see `Sessions`)."""

    __slots__ = ("manager",)
    order = 100

    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager

    async def before(self, connection: HTTPConnection) -> None:
        """Put the request's session in `request.session` (no cookie: no store access)."""
        manager = self.manager
        connection.scope["session"] = await manager.load(manager.cookie_of(connection.cookies))

    async def after(self, request: Request, response: Response | None) -> None:
        """Save the session if it changed and set or expire the cookie on `response`."""
        session = request.scope.get("session")
        if not isinstance(session, Session):
            return  # the `before` step failed (a store outage answered by the app)
        manager = self.manager
        if response is None:  # a websocket: no cookie can be set
            await manager.save_after_websocket(session)
            return
        cookie = await manager.commit(session, secure=manager.secure_for(request.scope))
        manager.add_headers(response.raw_headers, session, cookie)


class Sessions(SessionManager, Plugin):
    """Give the routes that take the `Request` a `request.session` kept in a `Store`.

    ```python
    app = App(plugins=[Sessions(secret_key=settings.secret_key, store=RedisStore(url))])
    ```

    Takes the options of `SessionManager` (`secret_key`, `store`, `cookie_name`, ...).
    `Auth` installs one with its own secret key and store unless the app has one.
    """

    install_hint = "app.install(Sessions(secret_key=...))"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.step = SessionStep(self)
        """The step compiled into the routes that can read the session."""

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """The session step, for routes whose handler or dependencies take the connection."""
        return (self.step,) if route.takes_connection else ()

    def migration_folders(self, database: Any) -> dict[str, Path]:
        """The store's table, when sessions live in `database` (a `DatabaseStore`)."""
        folders = getattr(self.store, "migration_folders", None)
        return dict(folders(database)) if folders is not None else {}
