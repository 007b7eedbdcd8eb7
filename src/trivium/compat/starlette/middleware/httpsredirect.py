"""`starlette.middleware.httpsredirect`: redirect HTTP to HTTPS."""

from __future__ import annotations

from trivium.middleware import HTTPSRedirectMiddleware

__all__ = [
    "HTTPSRedirectMiddleware",
]
