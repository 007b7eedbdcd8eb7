"""`starlette.requests`: the request objects."""

from __future__ import annotations

from trivium.http import HTTPConnection
from trivium.http import Request
from trivium.http._request import ClientDisconnect

__all__ = [
    "ClientDisconnect",
    "HTTPConnection",
    "Request",
]
