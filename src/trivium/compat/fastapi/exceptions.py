"""`fastapi.exceptions`: the exceptions FastAPI raises and handles."""

from __future__ import annotations

from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.errors import ResponseValidationError
from trivium.errors import TriviumError as FastAPIError
from trivium.errors import WebSocketException


class WebSocketRequestValidationError(RequestValidationError):
    """A websocket's parameters failed validation."""


__all__ = [
    "FastAPIError",
    "HTTPException",
    "RequestValidationError",
    "ResponseValidationError",
    "WebSocketException",
    "WebSocketRequestValidationError",
]
