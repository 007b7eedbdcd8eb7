"""Trivium: an async-native web framework with FastAPI's type-hint API and Django's batteries.

The names here are the core vocabulary; batteries live in their own subpackages and are
imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from trivium import status
from trivium.app import App
from trivium.app import DocsConfig
from trivium.app import HTTPConfig
from trivium.background import BackgroundTasks
from trivium.di import Depends
from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.errors import WebSocketException
from trivium.http import Request
from trivium.http import Response
from trivium.params import Body
from trivium.params import Cookie
from trivium.params import File
from trivium.params import Form
from trivium.params import Header
from trivium.params import Path
from trivium.params import Query
from trivium.routing import Router

if TYPE_CHECKING:
    from trivium.http import UploadFile
    from trivium.http import WebSocket
    from trivium.http import WebSocketDisconnect

__version__ = "0.1.0"

__all__ = [
    "App",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "DocsConfig",
    "File",
    "Form",
    "HTTPConfig",
    "HTTPException",
    "Header",
    "Path",
    "Query",
    "Request",
    "RequestValidationError",
    "Response",
    "Router",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "status",
]


def __getattr__(name: str) -> Any:
    if name in ("UploadFile", "WebSocket", "WebSocketDisconnect"):
        import trivium.http

        value = getattr(trivium.http, name)
        globals()[name] = value
        return value
    if name in ("FastAPI", "APIRouter"):
        replacement = "App" if name == "FastAPI" else "Router"
        msg = (
            f"trivium has no {name}; use 'from trivium.compat.fastapi import {name}' to keep "
            f"FastAPI's defaults, or trivium's own 'from trivium import {replacement}' "
            "(docs/migrate-from-fastapi.md)"
        )
        raise ImportError(msg, name=name)
    raise AttributeError(f"module 'trivium' has no attribute {name!r}")
