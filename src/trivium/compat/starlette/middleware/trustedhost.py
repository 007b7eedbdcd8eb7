"""`starlette.middleware.trustedhost` on trivium."""

from __future__ import annotations

from trivium.middleware import TrustedHostMiddleware

__all__ = ["TrustedHostMiddleware"]
