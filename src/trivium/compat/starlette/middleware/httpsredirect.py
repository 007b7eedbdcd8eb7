"""`starlette.middleware.httpsredirect` on trivium."""

from __future__ import annotations

from trivium.middleware import HTTPSRedirectMiddleware

__all__ = ["HTTPSRedirectMiddleware"]
