"""The origin check of cookie-carrying websocket handshakes.

A browser attaches the site's cookies to a websocket handshake whatever page opened it,
and the CSRF token of forms cannot travel with it, so a page on another site could open
a websocket in the user's name (cross-site websocket hijacking). Browsers always send
`Origin` on a websocket handshake: a handshake that carries cookies is refused (403,
the socket never opens) unless its origin is the app's own or a trusted one. Handshakes
authenticated by an `Authorization` header, and clients that send no `Origin` (not a
browser), are let through.

The app's own origin is built from the handshake's scheme and `Host`. Behind a proxy
that terminates TLS the app sees `ws://` while the browser's `Origin` says `https://`:
`ProxyHeadersMiddleware` gives the app the client's scheme. The refusal says which case
it is (in the close reason, which only ASGI can carry), and the first such scheme
mismatch is logged once, since on most servers the client sees a bare 403.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.plugins import RequestStep

if TYPE_CHECKING:
    from trivium.http import HTTPConnection

__all__ = ["OriginStep"]

logger = logging.getLogger("trivium.channels")

_HEADER_AUTH = ("token", "jwt")
_PROXY_FIX = "Middleware(ProxyHeadersMiddleware, trusted_proxies=[...])"


def _origin(value: str) -> str | None:
    parts = urlsplit(value.strip().lower())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + ("" if port == default else f":{port}")


class OriginStep(RequestStep):
    """Refuse cookie-carrying websocket handshakes from foreign origins (see the module)."""

    __slots__ = ("_warned", "trusted")
    order = 350

    def __init__(self, trusted_origins: Sequence[str]) -> None:
        if isinstance(trusted_origins, str):
            trusted_origins = [trusted_origins]
        trusted = set()
        for entry in trusted_origins:
            origin = _origin(entry) if isinstance(entry, str) else None
            if origin is None or urlsplit(entry).path not in ("", "/"):
                raise ConfigurationError(
                    f"trusted origin {entry!r} must look like 'https://app.example.com'",
                    "channels-option",
                )
            trusted.add(origin)
        self.trusted = frozenset(trusted)
        """The other origins allowed to open websockets."""
        self._warned = False

    async def before(self, connection: HTTPConnection) -> None:
        """Refuse the handshake when it carries cookies and comes from another site."""
        headers = connection.headers
        origin = headers.get("origin")
        if origin is None or "cookie" not in headers:
            return
        if getattr(connection.scope.get("auth"), "method", None) in _HEADER_AUTH:
            return
        normal = _origin(origin)
        own = _own(connection)
        if normal is not None and (normal in self.trusted or normal == own):
            return
        raise HTTPException(403, self._refusal(origin[:100], normal, own))

    def _refusal(self, origin: str, normal: str | None, own: str | None) -> str:
        """Say why the origin does not match, the likely cause first (close reasons are short)."""
        if normal is None or own is None or normal.replace("https:", "http:", 1) != own:
            return (
                "Origin is neither this app's own nor one of trusted_origins "
                f"(Origin {origin!r}, app {own!r})"
            )
        if not self._warned:
            self._warned = True
            logger.warning(
                "channels: refused a cookie websocket handshake from %s: the app sees "
                "its own origin as %s. Behind a proxy that terminates TLS, install %s "
                "so that the app sees the client's scheme, or list the origin in "
                "Channels(trusted_origins=[...])",
                origin,
                own,
                _PROXY_FIX,
            )
        return (
            "Origin is https but the app sees http: behind a TLS proxy add "
            f"ProxyHeadersMiddleware (Origin {origin!r}, app {own!r})"
        )


def _own(connection: HTTPConnection) -> str | None:
    scheme = "https" if connection.scope.get("scheme") in ("wss", "https") else "http"
    host = connection.headers.get("host")
    return None if host is None else _origin(f"{scheme}://{host}")
