"""`starlette.requests` on trivium."""

from __future__ import annotations

from trivium.http import ClientDisconnect
from trivium.http import HTTPConnection
from trivium.http import Request

__all__ = ["ClientDisconnect", "HTTPConnection", "Request"]
