"""`fastapi.exceptions`: the exceptions FastAPI raises and handles."""

from __future__ import annotations

from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.errors import ResponseValidationError
from trivium.errors import TriviumError as FastAPIError
from trivium.errors import WebSocketException


class FastAPIDeprecationWarning(UserWarning):
    """A FastAPI feature the app uses is deprecated (FastAPI's own warning category)."""


class WebSocketRequestValidationError(RequestValidationError):
    """A websocket's parameters failed validation."""


__all__ = [
    "FastAPIDeprecationWarning",
    "FastAPIError",
    "HTTPException",
    "RequestValidationError",
    "ResponseValidationError",
    "WebSocketException",
    "WebSocketRequestValidationError",
]
