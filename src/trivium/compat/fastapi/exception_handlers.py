"""`fastapi.exception_handlers`: the default handlers, to call from your own."""

from __future__ import annotations

from trivium.exception_handlers import http_exception_handler
from trivium.exception_handlers import request_validation_exception_handler
from trivium.exception_handlers import websocket_request_validation_exception_handler

__all__ = [
    "http_exception_handler",
    "request_validation_exception_handler",
    "websocket_request_validation_exception_handler",
]
