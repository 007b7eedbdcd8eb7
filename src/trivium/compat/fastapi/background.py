"""`fastapi.background` on trivium."""

from __future__ import annotations

from trivium import BackgroundTasks

__all__ = ["BackgroundTasks"]
