"""The authentication middleware: set `scope["user"]` and `scope["auth"]` for every request.

Credentials are looked at in order: an `Authorization` header (`Bearer <jwt>`,
`Token <api token>`, or `Bearer trv_...` for an API token), else the session's user id.
A request with neither is anonymous and costs no database query. A credential that is
present but wrong (bad signature, expired, revoked) is answered 401 with a
`WWW-Authenticate` challenge right here, so handlers never see a half-authenticated user.
Other `Authorization` schemes (`Basic`, ...) are left alone for the app's own dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from trivium.auth._anonymous import ANONYMOUS
from trivium.types import ASGIApp
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from trivium.auth._auth import Auth

__all__ = ["AuthenticationMiddleware", "CredentialError"]


class CredentialError(Exception):
    """A credential was sent but is not valid; answered with 401."""

    def __init__(self, detail: str, challenge: str = "Bearer") -> None:
        super().__init__(detail)
        self.detail = detail
        """The message sent to the client."""
        self.challenge = challenge
        """The `WWW-Authenticate` header value."""


def read_authorization(scope: Scope) -> tuple[str, str] | None:
    """Return the `Authorization` header as (scheme lower-cased, credential), if any."""
    for key, value in scope["headers"]:
        if key == b"authorization":
            kind, _, credential = value.decode("latin-1").strip().partition(" ")
            return kind.lower(), credential.strip()
    return None


class AuthenticationMiddleware:
    """Resolve the request's user with `auth` (installed by `Auth.init_app`).

    It must run inside `SessionMiddleware`, which `Auth.init_app` arranges.
    """

    __slots__ = ("app", "auth")

    def __init__(self, app: ASGIApp, auth: Auth) -> None:
        self.app = app
        self.auth = auth
        """The `Auth` whose credentials are checked."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate the connection, then serve it (or answer 401)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            user, info = await self.auth.resolve(scope)
        except CredentialError as exc:
            await _reject(scope, send, exc)
            return
        scope["user"] = user if user is not None else ANONYMOUS
        scope["auth"] = info
        await self.app(scope, receive, send)


async def _reject(scope: Scope, send: Send, exc: CredentialError) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": exc.detail[:100]})
        return
    body = orjson.dumps({"detail": exc.detail})
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"www-authenticate", exc.challenge.encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
