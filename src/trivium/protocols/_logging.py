"""Log formats `trivium run` configures: text for development, JSON lines for production.

Every record gets the time, level, logger and message, and, while a request is served,
its ID and the client's address. The request context comes from two context variables
that whoever handles the request sets once (`trivium.observability`'s request step, or
`RequestIDMiddleware` for the ID); formatting happens only for records that are emitted,
never per request.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from typing import Literal

from trivium.middleware._request_id import _current as _request_id

__all__ = [
    "JSONFormatter",
    "LogFormat",
    "TextFormatter",
    "bind_client",
    "bind_request_id",
    "logging_config",
]

LogFormat = Literal["text", "json"]

_client: ContextVar[str | None] = ContextVar("trivium_client_address", default=None)

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


# Called on every request: the context variables' own `set`, not a function around it.
bind_client: Callable[[str | None], object] = _client.set
"""Set the client address that records logged while serving this request carry."""
bind_request_id: Callable[[str | None], object] = _request_id.set
"""Set the request ID that `current_request_id()` and log records of this request carry."""


def _context(record: logging.LogRecord) -> tuple[str | None, str | None]:
    request_id = getattr(record, "request_id", None) or _request_id.get()
    return request_id, _client.get()


class TextFormatter(logging.Formatter):
    """`2025-01-31 12:00:00,123 INFO trivium.db [request-id client] message` lines."""

    def format(self, record: logging.LogRecord) -> str:
        """Format `record` as one readable line (plus its traceback, if any)."""
        request_id, client = _context(record)
        where = f" [{request_id or '-'} {client or '-'}]" if request_id or client else ""
        line = (
            f"{self.formatTime(record)} {record.levelname:<7} {record.name}{where} "
            f"{record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JSONFormatter(logging.Formatter):
    """One JSON object per record: `time`, `level`, `logger`, `message`, `request_id`, `client`.

    Extra fields passed with `extra={...}` are added; a traceback goes to `exception`.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Format `record` as one line of JSON."""
        moment = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
        request_id, client = _context(record)
        data: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id:
            data["request_id"] = request_id
        if client:
            data["client"] = client
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key not in data and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def logging_config(log_format: LogFormat, level: str = "info") -> dict[str, Any]:
    """Return the `logging.config.dictConfig` of a server: every logger to stdout in `log_format`.

    Granian's own loggers (`_granian`, `granian.access`) use it too.
    """
    formatter = JSONFormatter if log_format == "json" else TextFormatter
    name = f"{formatter.__module__}.{formatter.__qualname__}"
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "trivium",
        "stream": "ext://sys.stdout",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"trivium": {"()": name}},
        "handlers": {"console": handler, "access": handler},
        "root": {"handlers": ["console"], "level": level.upper()},
        "loggers": {
            "_granian": {"handlers": ["console"], "level": level.upper(), "propagate": False},
            "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
