"""`CSRF`: cross-site request forgery protection as a plugin.

Its step is compiled into the HTTP routes whose handler or dependencies take the
`Request` (only those can act on the session or the user a cookie carries), after the
session and authentication steps, so it reads how the request was authenticated.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from trivium.csrf._policy import CSRFPolicy
from trivium.csrf._policy import Disconnected
from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.http import HTTPConnection

__all__ = ["CSRF", "CSRFStep"]


class CSRFStep(RequestStep):
    """Check the request against a `CSRFPolicy` (403/413 when refused)."""

    __slots__ = ("policy",)
    order = 300

    def __init__(self, policy: CSRFPolicy) -> None:
        self.policy = policy

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        """Refuse a forged request; a form body read for its token is replayed.

        A plain function (see `RequestStep`): safe methods, exempt paths and header
        credentials pass without a coroutine; other requests return the check to await.
        """
        if self.policy.passes_at_once(connection.scope):
            return None
        return self._check(connection)

    async def _check(self, connection: HTTPConnection) -> None:
        try:
            form = getattr(connection, "form", None)  # a Request: the form is parsed once
            receive = await self.policy.check_unsafe(connection.scope, connection.receive, form)
            connection.receive = receive
        except Disconnected:
            raise HTTPException(400, "The client disconnected while sending the form") from None


class CSRF(CSRFPolicy, Plugin):
    """Protect cookie-authenticated unsafe requests (see `CSRFPolicy` for the rules and options).

    ```python
    app = App(plugins=[Sessions(secret_key=KEY), CSRF(trusted_origins=["https://admin.example.com"])])
    ```

    `Auth` installs one with the defaults unless the app has one.
    """

    install_hint = "app.install(CSRF())"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.step = CSRFStep(self)
        """The step compiled into the routes that take the request."""

    def after_build(self, app: App) -> None:
        """Check that sessions are installed: the token's secret lives in the session.

        Raises:
            ConfigurationError: no `Sessions` plugin (`csrf-no-session`).
        """
        from trivium.sessions import Sessions

        if not app.plugins_of(Sessions):
            raise ConfigurationError(
                "CSRF protection needs sessions: install trivium.sessions.Sessions(secret_key=...) "
                "as well (or trivium.auth.Auth, which installs both)",
                "csrf-no-session",
            )

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """The CSRF step, for HTTP routes whose handler or dependencies take the request."""
        wanted = route.takes_connection and not (route.websocket or route.fallback)
        return (self.step,) if wanted else ()
