"""`fastapi.routing` on trivium: `APIRouter` is trivium's `Router`, `APIRoute` its `Route`.

`generate_unique_id_function(route)` receives a `Route`, which has the `name`, `path`,
`methods` and `tags` FastAPI's `APIRoute` has.
"""

from __future__ import annotations

from trivium.routing import Mount
from trivium.routing import Route
from trivium.routing import Route as APIRoute
from trivium.routing import Router as APIRouter
from trivium.routing import WebSocketRoute

__all__ = ["APIRoute", "APIRouter", "Mount", "Route", "WebSocketRoute"]
