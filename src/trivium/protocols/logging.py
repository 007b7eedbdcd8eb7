"""Log formats and the request context of log records (public face of `_logging`)."""

from __future__ import annotations

from trivium.protocols._logging import JSONFormatter
from trivium.protocols._logging import LogFormat
from trivium.protocols._logging import TextFormatter
from trivium.protocols._logging import bind_client
from trivium.protocols._logging import bind_request_id
from trivium.protocols._logging import logging_config

__all__ = [
    "JSONFormatter",
    "LogFormat",
    "TextFormatter",
    "bind_client",
    "bind_request_id",
    "logging_config",
]
