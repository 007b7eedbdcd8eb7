"""`fastapi`: FastAPI's top-level names over trivium (import-compatible)."""

from __future__ import annotations

from types import ModuleType

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
from trivium import WebSocketException
from trivium import status
from trivium.compat._lazy import submodule
from trivium.compat.fastapi.applications import FastAPI
from trivium.compat.fastapi.routing import APIRouter
from trivium.di import Security
from trivium.http import UploadFile
from trivium.http import WebSocket
from trivium.http import WebSocketDisconnect

__version__ = "0.115.0"
"""The FastAPI version whose public API this package follows."""

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
    "Security",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "status",
]


def __getattr__(name: str) -> ModuleType:
    """Import a submodule (`fastapi.responses`) on first access."""
    return submodule(__name__, name)
