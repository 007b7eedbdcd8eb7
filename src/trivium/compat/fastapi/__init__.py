"""`fastapi` on trivium: the names a FastAPI app imports from the package itself.

`FastAPI` is trivium's `App` with FastAPI's defaults where the two differ (see
`trivium.compat.fastapi.applications`); the other names are trivium's own.
"""

from __future__ import annotations

from trivium import BackgroundTasks
from trivium import Body
from trivium import Cookie
from trivium import Depends
from trivium import File
from trivium import Form
from trivium import Header
from trivium import HTTPException
from trivium import Path
from trivium import Query
from trivium import Request
from trivium import Response
from trivium import UploadFile
from trivium import WebSocket
from trivium import WebSocketDisconnect
from trivium import WebSocketException
from trivium import status
from trivium.compat.fastapi.applications import FastAPI
from trivium.compat.fastapi.routing import APIRouter

__all__ = [
    "APIRouter",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "FastAPI",
    "File",
    "Form",
    "HTTPException",
    "Header",
    "Path",
    "Query",
    "Request",
    "Response",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "status",
]
