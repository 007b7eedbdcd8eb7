"""`Router`: group routes under a prefix, tags and dependencies, and include routers in others.

A router only records routes. Prefix, tags and dependencies are applied when a route is
added or a router is included (as FastAPI's `APIRouter` and Flask's blueprints do); the
app compiles the result once at start-up.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import TypeVar

from typing_extensions import Unpack

from trivium.di._depends import Depends
from trivium.errors import ConfigurationError
from trivium.http._limits import Limits
from trivium.params._markers import Param
from trivium.routing._route import BaseRoute
from trivium.routing._route import Mount
from trivium.routing._route import Route
from trivium.routing._route import RouteOptions
from trivium.routing._route import WebSocketRoute
from trivium.types import ASGIApp

__all__ = ["Lifespan", "Router"]

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)
Lifespan = Callable[[Any], Any]
"""A callable taking the app and returning an async context manager (or an async generator)."""

_VIEW_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


class Router:
    """A group of routes with a common prefix, tags and dependencies.

    Args:
        prefix: prepended to every route path (e.g. `"/items"`).
        tags: OpenAPI tags added to every route.
        dependencies: dependencies run before every route's handler.
        lifespan: an async context manager factory run with the app's lifespan.
        responses: extra OpenAPI responses documented on every route.
        limits: request limits for every route of the router (see `Limits`).
    """

    def __init__(  # noqa: PLR0913 - the options FastAPI's APIRouter users know
        self,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Depends] | None = None,
        lifespan: Lifespan | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        limits: Limits | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ConfigurationError(
                f"router prefix {prefix!r} must start with '/' and not end with '/'",
                "router-prefix",
            )
        self.prefix = prefix
        self.tags: list[str] = list(tags or [])
        self.dependencies: list[Depends] = list(dependencies or [])
        self.responses = dict(responses or {})
        self.limits = limits
        self.routes: list[BaseRoute] = []
        self.lifespans: list[Lifespan] = [lifespan] if lifespan is not None else []

    def _merge(self, options: RouteOptions) -> RouteOptions:
        merged: RouteOptions = dict(options)  # type: ignore[assignment]
        if self.tags:
            merged["tags"] = [*self.tags, *options.get("tags", [])]
        if self.dependencies:
            merged["dependencies"] = [*self.dependencies, *options.get("dependencies", ())]
        if self.responses:
            merged["responses"] = {**self.responses, **options.get("responses", {})}
        if self.limits is not None and "limits" not in options:
            merged["limits"] = self.limits
        return merged

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> Route:
        """Register `endpoint` for `path` and `methods` (default GET)."""
        full = self.prefix + path
        if not full:
            raise ConfigurationError(
                "a route path may be empty only under a router prefix", "path-format"
            )
        route = Route(full, endpoint, methods or ["GET"], self._merge(options))
        self.routes.append(route)
        return route

    def route(
        self, path: str, methods: Sequence[str] | None = None, **options: Unpack[RouteOptions]
    ) -> Callable[[F], F]:
        """Register the decorated function for `path` and `methods` (default GET)."""

        def decorator(func: F) -> F:
            self.add_route(path, func, methods, **options)
            return func

        return decorator

    api_route = route

    def get(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a GET handler (HEAD is answered by it too)."""
        return self.route(path, ["GET"], **options)

    def post(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a POST handler."""
        return self.route(path, ["POST"], **options)

    def put(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a PUT handler."""
        return self.route(path, ["PUT"], **options)

    def patch(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a PATCH handler."""
        return self.route(path, ["PATCH"], **options)

    def delete(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a DELETE handler."""
        return self.route(path, ["DELETE"], **options)

    def head(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a HEAD handler."""
        return self.route(path, ["HEAD"], **options)

    def options(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register an OPTIONS handler (otherwise OPTIONS is answered automatically)."""
        return self.route(path, ["OPTIONS"], **options)

    def add_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
    ) -> WebSocketRoute:
        """Register a websocket handler for `path`."""
        route = WebSocketRoute(
            self.prefix + path, endpoint, name, [*self.dependencies, *(dependencies or [])]
        )
        self.routes.append(route)
        return route

    def websocket(
        self, path: str, name: str | None = None, dependencies: Sequence[Depends] | None = None
    ) -> Callable[[F], F]:
        """Register the decorated function as a websocket handler for `path`."""

        def decorator(func: F) -> F:
            self.add_websocket_route(path, func, name, dependencies)
            return func

        return decorator

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve the ASGI `app` (or another trivium app) under `path`."""
        self.routes.append(Mount(self.prefix + path, app, name))

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Depends] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
    ) -> None:
        """Copy `router`'s routes into this one, under `prefix` with extra tags and dependencies.

        Routes added to `router` after this call are not included.
        """
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ConfigurationError(
                f"include prefix {prefix!r} must start with '/' and not end with '/'",
                "router-prefix",
            )
        outer = Router(
            prefix=self.prefix + prefix,
            tags=[*self.tags, *(tags or [])],
            dependencies=[*self.dependencies, *(dependencies or [])],
            responses={**self.responses, **(responses or {})},
        )
        for route in router.routes:
            if isinstance(route, Route):
                self.routes.append(
                    Route(
                        outer.prefix + route.path,
                        route.endpoint,
                        route.methods,
                        outer._merge(route.options),
                    )
                )
            elif isinstance(route, WebSocketRoute):
                self.routes.append(
                    WebSocketRoute(
                        outer.prefix + route.path,
                        route.endpoint,
                        route.name,
                        [*outer.dependencies, *route.dependencies],
                    )
                )
            elif isinstance(route, Mount):
                self.routes.append(Mount(outer.prefix + route.path, route.app, route.name))
        self.lifespans.extend(router.lifespans)

    def view(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[C], C]:
        """Register a class-based view: its `get`, `post`, ... methods become handlers.

        Class attributes declared with `Depends(...)` (or parameter markers) are resolved
        per request and set on a fresh instance before the method runs, so every method
        shares them.
        """

        def decorator(cls: C) -> C:
            self.add_view(path, cls, **options)
            return cls

        return decorator

    def add_view(self, path: str, cls: type, **options: Unpack[RouteOptions]) -> None:
        """Register the class-based view `cls` for `path` (see `view`)."""
        shared = _shared_parameters(cls)
        found = False
        for method in _VIEW_METHODS:
            func = cls.__dict__.get(method)
            if func is None:
                continue
            found = True
            route_options: RouteOptions = dict(options)  # type: ignore[assignment]
            route_options.setdefault("name", cls.__name__)
            # "TodoItem.patch" is documented as "Patch Todo Item".
            words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", cls.__name__)
            route_options.setdefault("summary", f"{method.title()} {words}")
            self.add_route(
                path, _view_endpoint(cls, method, func, shared), [method.upper()], **route_options
            )
        if not found:
            raise ConfigurationError(
                f"view {cls.__name__} defines none of {', '.join(_VIEW_METHODS)}", "view-empty"
            )


def _shared_parameters(cls: type) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(cls, include_extras=True)
    shared = []
    for name, hint in hints.items():
        value = getattr(cls, name, inspect.Parameter.empty)
        marked = isinstance(value, (Depends, Param)) or any(
            isinstance(m, (Depends, Param)) for m in getattr(hint, "__metadata__", ())
        )
        if marked:
            shared.append(
                inspect.Parameter(
                    name, inspect.Parameter.KEYWORD_ONLY, default=value, annotation=hint
                )
            )
    return shared


def _view_endpoint(
    cls: type, method: str, func: Callable[..., Any], shared: list[inspect.Parameter]
) -> Callable[..., Any]:
    signature = inspect.signature(func)
    hints = typing.get_type_hints(func, include_extras=True)
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation), kind=inspect.Parameter.KEYWORD_ONLY)
        for p in list(signature.parameters.values())[1:]
    ]
    names = [p.name for p in shared]
    clash = set(names) & {p.name for p in own}
    if clash:
        raise ConfigurationError(
            f"{cls.__name__}.{method} parameter(s) {sorted(clash)} shadow class attributes",
            "view-param-clash",
        )

    def instance(kwargs: dict[str, Any]) -> Any:
        obj: Any = object.__new__(cls)
        for name in names:
            setattr(obj, name, kwargs.pop(name))
        return obj

    endpoint: Any
    if inspect.iscoroutinefunction(func):

        async def async_endpoint(**kwargs: Any) -> Any:
            return await func(instance(kwargs), **kwargs)

        endpoint = async_endpoint
    else:

        def sync_endpoint(**kwargs: Any) -> Any:
            return func(instance(kwargs), **kwargs)

        endpoint = sync_endpoint
    functools.update_wrapper(endpoint, func)
    del endpoint.__wrapped__
    endpoint.__signature__ = signature.replace(parameters=[*shared, *own])
    endpoint.__annotations__ = {
        **{p.name: p.annotation for p in [*shared, *own]},
        **({"return": hints["return"]} if "return" in hints else {}),
    }
    endpoint.__qualname__ = f"{cls.__qualname__}.{method}"
    return endpoint  # type: ignore[no-any-return]
