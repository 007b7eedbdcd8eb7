"""`fastapi.routing` on trivium: `APIRouter` is trivium's `Router`."""

from __future__ import annotations

from trivium.routing import Mount
from trivium.routing import Route
from trivium.routing import Router as APIRouter
from trivium.routing import WebSocketRoute

__all__ = ["APIRouter", "Mount", "Route", "WebSocketRoute"]
