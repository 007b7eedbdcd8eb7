"""`fastapi.requests`: the request objects."""

from __future__ import annotations

from trivium.http import HTTPConnection
from trivium.http import Request

__all__ = [
    "HTTPConnection",
    "Request",
]
