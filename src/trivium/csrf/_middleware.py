"""`CSRFMiddleware`: the CSRF rules (see `CSRFPolicy`) as plain ASGI middleware.

The `CSRF` plugin is the usual way (a step compiled into the routes that can read the
session); the middleware remains for apps that add `SessionMiddleware` themselves.
"""

from __future__ import annotations

from typing import Any

from trivium.csrf._policy import CSRFPolicy
from trivium.csrf._policy import Disconnected
from trivium.errors import HTTPException
from trivium.responses import JSONResponse
from trivium.types import ASGIApp
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["CSRFMiddleware"]


class CSRFMiddleware(CSRFPolicy):
    """Protect cookie-authenticated unsafe requests with a token and every one with an origin check.

    Add it so that it runs inside `SessionMiddleware` (add it first: the last added
    middleware is the outermost):

    ```python
    app.add_middleware(CSRFMiddleware, trusted_origins=["https://admin.example.com"])
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key)
    ```

    Takes `app` (the ASGI app to wrap) and the options of `CSRFPolicy`. Whether a
    request is cookie-authenticated is what the session middleware recorded, whatever
    the name of its cookie.
    """

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        super().__init__(**options)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request; pass it on or answer 403 (or 413)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            receive = await self.check(scope, receive)
        except Disconnected:
            return
        except HTTPException as exc:
            await JSONResponse({"detail": exc.detail}, exc.status_code)(scope, receive, send)
            return
        await self.app(scope, receive, send)
