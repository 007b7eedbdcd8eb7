"""`starlette.middleware.trustedhost`: refuse unknown `Host` headers."""

from __future__ import annotations

from trivium.middleware import TrustedHostMiddleware

__all__ = [
    "TrustedHostMiddleware",
]
