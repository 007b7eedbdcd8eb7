"""Pure ASGI middleware, composed once when the app starts.

The standard middleware classes are imported on first use, so `import trivium` does not
pay for the ones an app does not add.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

from trivium.middleware._stack import Middleware

if TYPE_CHECKING:
    from trivium.middleware._base import BaseHTTPMiddleware
    from trivium.middleware._base import CallNext
    from trivium.middleware._cors import CORSMiddleware
    from trivium.middleware._gzip import GZipMiddleware
    from trivium.middleware._hosts import TRUSTED_HOST_KEY
    from trivium.middleware._hosts import TrustedHostMiddleware
    from trivium.middleware._proxy import ProxyHeadersMiddleware
    from trivium.middleware._request_id import RequestIDLogFilter
    from trivium.middleware._request_id import RequestIDMiddleware
    from trivium.middleware._request_id import current_request_id
    from trivium.middleware._security import HSTS
    from trivium.middleware._security import ContentSecurityPolicy
    from trivium.middleware._security import HTTPSRedirectMiddleware
    from trivium.middleware._security import SecurityHeadersMiddleware
    from trivium.middleware._security import csp_nonce

__all__ = [
    "HSTS",
    "TRUSTED_HOST_KEY",
    "BaseHTTPMiddleware",
    "CORSMiddleware",
    "CallNext",
    "ContentSecurityPolicy",
    "GZipMiddleware",
    "HTTPSRedirectMiddleware",
    "Middleware",
    "ProxyHeadersMiddleware",
    "RequestIDLogFilter",
    "RequestIDMiddleware",
    "SecurityHeadersMiddleware",
    "TrustedHostMiddleware",
    "csp_nonce",
    "current_request_id",
]

_LAZY = {
    "BaseHTTPMiddleware": "_base",
    "CallNext": "_base",
    "CORSMiddleware": "_cors",
    "TRUSTED_HOST_KEY": "_hosts",
    "ContentSecurityPolicy": "_security",
    "GZipMiddleware": "_gzip",
    "HSTS": "_security",
    "HTTPSRedirectMiddleware": "_security",
    "ProxyHeadersMiddleware": "_proxy",
    "RequestIDLogFilter": "_request_id",
    "RequestIDMiddleware": "_request_id",
    "SecurityHeadersMiddleware": "_security",
    "TrustedHostMiddleware": "_hosts",
    "csp_nonce": "_security",
    "current_request_id": "_request_id",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trivium.middleware' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"trivium.middleware.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
