"""`fastapi.sse` on trivium: server-sent events."""

from __future__ import annotations

from trivium.responses import EventSourceResponse
from trivium.responses import ServerSentEvent

__all__ = ["EventSourceResponse", "ServerSentEvent"]
