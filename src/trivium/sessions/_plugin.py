"""`Sessions`: server-side sessions as a plugin, compiled into the routes that use them.

A route whose handler or dependencies take the `Request` (or `WebSocket`) gets the
session step; other routes never see a session and cost nothing. On such a route a
request without the cookie gets an empty session without touching the store; one with
the cookie reads the store once. The session is saved (and the cookie set) once the
response is ready, error responses included.
"""

from __future__ import annotations

from collections.abc import Awaitable
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

    __slots__ = ("manager", "plain_commit", "plain_load")
    order = 100

    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager
        # Shortcuts that skip `load`/`commit` when they would not touch the store hold
        # only for the manager's own methods, not for a subclass's overrides.
        cls = type(manager)
        self.plain_load = cls.load is SessionManager.load
        self.plain_commit = cls.commit is SessionManager.commit

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        """Put the request's session in `request.session` (no cookie: no store access).

        A plain function (see `RequestStep`): without a cookie the new session is made
        at once; with one, the store read is returned to await.
        """
        manager = self.manager
        cookie = manager.cookie_of(connection.cookies)
        if cookie is None and self.plain_load:
            connection.scope["session"] = Session()
            return None
        return self._load(connection, cookie)

    async def _load(self, connection: HTTPConnection, cookie: str | None) -> None:
        connection.scope["session"] = await self.manager.load(cookie)

    def after(self, request: Request, response: Response | None) -> Awaitable[None] | None:
        """Save the session if it changed and set or expire the cookie on `response`.

        A plain function (see `RequestStep`): a session with nothing to save or expire
        (anonymous and untouched, or unchanged) is finished at once.
        """
        session = request.scope.get("session")
        if not isinstance(session, Session):
            return None  # the `before` step failed (a store outage answered by the app)
        manager = self.manager
        if response is None:  # a websocket: no cookie can be set
            return manager.save_after_websocket(session)
        if self.plain_commit and manager.nothing_to_commit(session):  # `commit` would do nothing
            manager.add_headers(response.raw_headers, session, None)
            return None
        return self._commit(request, response, session)

    async def _commit(self, request: Request, response: Response, session: Session) -> None:
        manager = self.manager
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
