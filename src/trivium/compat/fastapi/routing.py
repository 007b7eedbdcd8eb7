"""`fastapi.routing`: `APIRouter` and the route classes.

`APIRouter` is trivium's `Router` with FastAPI's method names (`add_api_route`,
`add_api_websocket_route`) and constructor options. Options trivium cannot honour raise
with what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from typing_extensions import Unpack

from trivium.compat._apiroute import APIRoute
from trivium.di import Depends
from trivium.errors import ConfigurationError
from trivium.http._limits import Limits
from trivium.http._limits import with_form_limits
from trivium.responses import Response
from trivium.routing import Mount
from trivium.routing import Route
from trivium.routing import RouteOptions
from trivium.routing import Router
from trivium.routing import WebSocketRoute

__all__ = ["APIRoute", "APIRouter", "APIWebSocketRoute", "Mount", "Route", "WebSocketRoute"]

APIWebSocketRoute = WebSocketRoute
"""FastAPI's name for a websocket route."""


def refuse_unsupported(**given: Any) -> None:
    """Raise for FastAPI options trivium does not implement, when they are set."""
    hints = {
        "callbacks": "OpenAPI callbacks are not generated; use openapi_extra={'callbacks': ...}",
        "default": "a router has no fallback app; add a catch-all route or mount an app",
        "dependency_overrides_provider": "set app.dependency_overrides instead",
        "swagger_ui_oauth2_redirect_url": "the redirect page is served at docs_url + "
        "'/oauth2-redirect'; leave the default",
    }
    for key, value in given.items():
        if value:
            raise ConfigurationError(
                f"option {key}={value!r} is not supported: {hints[key]}", "unsupported-option"
            )


class _FastAPIRouting:
    """FastAPI's registration method names, shared by `APIRouter` and `FastAPI`."""

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        """Register `endpoint` for `path` and `methods` (default GET)."""
        Router.add_route(self, path, endpoint, methods, **options)  # type: ignore[arg-type]

    def add_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[Depends] | None = None,
    ) -> None:
        """Register a websocket handler for `path`."""
        Router.add_websocket_route(self, path, endpoint, name, dependencies)  # type: ignore[arg-type]

    @property
    def router(self) -> Any:
        """The router itself (`app.router` in FastAPI is the app's routing table)."""
        return self


class APIRouter(_FastAPIRouting, Router):
    """FastAPI's `APIRouter`: a trivium `Router` with FastAPI's options and method names."""

    def __init__(  # noqa: PLR0913 - FastAPI's APIRouter options
        self,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Depends] | None = None,
        default_response_class: type[Response] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: Sequence[Any] | None = None,
        routes: Sequence[Any] | None = None,
        redirect_slashes: bool = True,
        default: Any = None,
        dependency_overrides_provider: Any = None,
        route_class: type[Route] = APIRoute,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Callable[[Any], Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Any], str] | None = None,
        max_body_size: int | None = None,
        form_limits: Mapping[str, int] | None = None,
    ) -> None:
        refuse_unsupported(
            callbacks=callbacks,
            default=default,
            dependency_overrides_provider=dependency_overrides_provider,
        )
        if not redirect_slashes:
            raise ConfigurationError(
                "APIRouter(redirect_slashes=False) has no effect on an included router; "
                "pass redirect_slashes=False to FastAPI(...)",
                "unsupported-option",
            )
        super().__init__(
            prefix=prefix,
            tags=tags,
            dependencies=dependencies,
            lifespan=lifespan,
            responses=responses,
            default_response_class=default_response_class,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            generate_unique_id_function=generate_unique_id_function,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            routes=routes,
            route_class=route_class,
        )
        self.max_body_size = max_body_size
        """The largest request body its routes accept, in bytes (unless a route says)."""
        with_form_limits(Limits(), form_limits)  # a bad key or value fails here
        self.form_limits = dict(form_limits or {})
        """Its routes' form limits, FastAPI's keys (a route's own keys win)."""

    def route_defaults(self) -> RouteOptions:
        """Return the options the router gives its routes, `max_body_size` and `form_limits` too."""
        defaults = super().route_defaults()
        if self.max_body_size is not None:
            defaults["max_body_size"] = self.max_body_size
        if self.form_limits:
            defaults["form_limits"] = dict(self.form_limits)
        return defaults
