"""The origin check of session-authenticated websocket handshakes.

A browser sends the site's cookies with a websocket handshake whichever page opens it,
and the handshake carries no CSRF token: a page of another origin could open a socket
in the user's name (cross-site websocket hijacking). So the session does not
authenticate a handshake whose `Origin` is present and is neither the app's own (the
handshake's scheme and `Host`) nor one of the CSRF plugin's `trusted_origins`: the
socket's user is anonymous. Handshakes without `Origin` (not from a browser) and those
with an `Authorization` credential are not concerned.

An `https` origin of the app's own host is the app's own when the app sees `ws://`
(TLS ended by a proxy without `ProxyHeadersMiddleware`): only the site itself serves
pages at that origin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Protocol

if TYPE_CHECKING:
    from trivium.types import Scope

__all__ = ["TrustedOrigins", "cross_origin_handshake"]


class TrustedOrigins(Protocol):
    """The CSRF plugin's origin policy, as far as this check uses it."""

    def trusts(self, origin: str, scope: Scope) -> bool:
        """Return whether the normalised `origin` is a trusted one."""
        ...


def cross_origin_handshake(scope: Scope, trusted: TrustedOrigins | None) -> bool:
    """Return whether `scope` is a websocket handshake from an origin not to be trusted."""
    if scope["type"] != "websocket":
        return False
    origin = host = None
    for key, value in scope["headers"]:
        if key == b"origin":
            origin = value.decode("latin-1")
        elif key == b"host":
            host = value.decode("latin-1")
    if origin is None:
        return False
    from trivium.csrf import normalize_origin

    normal = normalize_origin(origin)
    if normal is None:
        return True
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    own = None if host is None else normalize_origin(f"{scheme}://{host}")
    if own is not None and own in (normal, normal.replace("https://", "http://", 1)):
        return False
    return trusted is None or not trusted.trusts(normal, scope)
