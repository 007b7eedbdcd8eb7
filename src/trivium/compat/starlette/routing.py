"""`starlette.routing`: `Route`, `Mount`, `WebSocketRoute` with Starlette's signatures.

A Starlette endpoint takes the request (or websocket) as its only argument, annotated
or not; these wrappers hand it over whatever the parameter is called. Such routes are
left out of the OpenAPI document, as FastAPI documents only its own `APIRoute`s.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from trivium.compat._mount import Mount
from trivium.http import Request
from trivium.http import WebSocket
from trivium.routing import NoMatchFound
from trivium.routing import Route as _Route
from trivium.routing import Router
from trivium.routing import WebSocketRoute as _WebSocketRoute

__all__ = ["Mount", "NoMatchFound", "Route", "Router", "WebSocketRoute"]


def _takes_request(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):

        async def async_endpoint(request: Request) -> Any:
            return await endpoint(request)

        wrapped: Callable[..., Any] = async_endpoint
    else:

        def sync_endpoint(request: Request) -> Any:
            return endpoint(request)

        wrapped = sync_endpoint
    # Names and docstring only: `functools.wraps` would also set `__wrapped__`, through
    # which the signature and annotations would be read from the user's function, whose
    # module may not define the `Request` named here (or call the parameter otherwise).
    for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
        if hasattr(endpoint, attribute):
            setattr(wrapped, attribute, getattr(endpoint, attribute))
    wrapped.__annotations__ = {"request": Request, "return": Any}
    return wrapped


def Route(  # noqa: N802 - Starlette's class name, built as a trivium route
    path: str,
    endpoint: Callable[..., Any],
    *,
    methods: Sequence[str] | None = None,
    name: str | None = None,
    include_in_schema: bool = True,
) -> _Route:
    """Return a route calling `endpoint(request)` for `path` and `methods` (default GET).

    `include_in_schema` is accepted for Starlette's sake; the route is never in the
    OpenAPI document (FastAPI documents only its `APIRoute`s).
    """
    del include_in_schema
    options: dict[str, Any] = {"include_in_schema": False, "response_model": None}
    if name is not None:
        options["name"] = name
    return _Route(path, _takes_request(endpoint), methods or ["GET"], options)  # type: ignore[arg-type]


def WebSocketRoute(  # noqa: N802 - Starlette's class name, built as a trivium route
    path: str, endpoint: Callable[..., Any], *, name: str | None = None
) -> _WebSocketRoute:
    """Return a websocket route calling `endpoint(websocket)`."""

    async def websocket_endpoint(websocket: WebSocket) -> Any:
        return await endpoint(websocket)

    websocket_endpoint.__name__ = getattr(endpoint, "__name__", "websocket_endpoint")
    return _WebSocketRoute(path, websocket_endpoint, name)
