"""`SessionMiddleware`: sessions as plain ASGI middleware, around the whole app.

The `Sessions` plugin is the usual way (a step compiled into the routes that can read the
session, on ASGI and RSGI alike); the middleware remains for apps that want every
request, mounted apps included, to carry a session. Both share `SessionManager`.
"""

from __future__ import annotations

from typing import Any

from trivium.http import parse_cookie_header
from trivium.sessions._manager import SessionManager
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["SessionMiddleware"]


class SessionMiddleware(SessionManager):
    """Give every request a `request.session` kept server-side in a `Store`.

    ```python
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, store=store)
    ```

    Takes `app` (the ASGI app to wrap) and the options of `SessionManager`.
    """

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        super().__init__(**options)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Load the session, run the app, and save the session as the response starts."""
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cookies: dict[str, str] = {}
        for key, value in scope["headers"]:
            if key == b"cookie":
                cookies.update(parse_cookie_header(value.decode("latin-1")))
        session = await self.load(self.cookie_of(cookies))
        scope["session"] = session
        if kind == "websocket":
            await self.app(scope, receive, send)
            await self.save_after_websocket(session)
            return
        secure = self.secure_for(scope)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await self.commit(session, secure=secure)
                if cookie is not None or session.from_cookie:
                    headers = list(message.get("headers", ()))
                    self.add_headers(headers, session, cookie)
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)
