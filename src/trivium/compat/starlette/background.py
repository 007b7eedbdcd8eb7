"""`starlette.background`: work run after the response is sent."""

from __future__ import annotations

from trivium.background import BackgroundTask
from trivium.background import BackgroundTasks

__all__ = [
    "BackgroundTask",
    "BackgroundTasks",
]
