"""`Router`: group routes under a prefix, tags and dependencies, and include routers in others.

A router only records routes. Prefix, tags and dependencies are applied when a route is
added or a router is included (as FastAPI's `APIRouter` and Flask's blueprints do); the
app compiles the result once at start-up.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
import typing
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import ClassVar
from typing import TypeVar

from typing_extensions import Unpack

from trivium.di._depends import Depends
from trivium.errors import ConfigurationError
from trivium.http._limits import Limits
from trivium.http._limits import with_form_limits
from trivium.http._response import Response
from trivium.params._markers import Param
from trivium.routing._options import RouteOptions
from trivium.routing._options import check_route_options
from trivium.routing._route import BaseRoute
from trivium.routing._route import Route
from trivium.routing._ws_route import Mount
from trivium.routing._ws_route import WebSocketRoute
from trivium.types import ASGIApp

__all__ = ["Lifespan", "Router", "lifespan_as_context", "maybe_await", "merge_options"]

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)
Lifespan = Callable[[Any], Any]


def lifespan_as_context(
    lifespan: Lifespan, app: Any
) -> contextlib.AbstractAsyncContextManager[Any]:
    """The context manager a lifespan (an async generator function or a factory) gives `app`."""
    if inspect.isasyncgenfunction(lifespan):
        return contextlib.asynccontextmanager(lifespan)(app)
    return lifespan(app)  # type: ignore[no-any-return]


async def maybe_await(value: Any) -> Any:
    """`value`, awaited first when it is awaitable (a start-up or shutdown handler's result)."""
    if inspect.isawaitable(value):
        return await value
    return value


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
        default_response_class: the response class of routes that don't name one.
        deprecated: mark every route deprecated in OpenAPI.
        include_in_schema: `False` leaves every route out of the OpenAPI document.
        generate_unique_id_function: builds the operationId of routes that don't set one.
        on_startup: callables run at start-up (with the app's lifespan).
        on_shutdown: callables run at shutdown.
        routes: routes to start with.
        route_class: the `Route` subclass routes are built with.
    """

    is_root: ClassVar[bool] = False
    """True for the app itself, whose routes are never included under a prefix."""

    def __init__(  # noqa: PLR0913 - the options FastAPI's APIRouter users know
        self,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Depends] | None = None,
        lifespan: Lifespan | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        limits: Limits | None = None,
        default_response_class: type[Response] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Any], str] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        routes: Sequence[BaseRoute] | None = None,
        route_class: type[Route] = Route,
        cache: Any = None,
        rate_limit: Any = None,
        mcp: Any = None,
        plugin_options: Mapping[str, Any] | None = None,
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
        self.default_response_class = default_response_class
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.generate_unique_id_function = generate_unique_id_function
        self.route_class = _check_route_class(route_class)
        self.plugin_options = _plugin_defaults(cache, rate_limit, mcp, plugin_options)
        """Plugin options every route of this router gets (a route's own win)."""
        self.routes: list[BaseRoute] = list(routes or [])
        self.lifespans: list[Lifespan] = [lifespan] if lifespan is not None else []
        if on_startup or on_shutdown:
            self.lifespans.insert(0, _event_lifespan(on_startup or (), on_shutdown or ()))

    def route_defaults(self) -> RouteOptions:
        """Return the options this router gives each of its routes (read when one is added)."""
        defaults: RouteOptions = {}
        if self.tags:
            defaults["tags"] = list(self.tags)
        if self.dependencies:
            defaults["dependencies"] = list(self.dependencies)
        if self.responses:
            defaults["responses"] = dict(self.responses)
        if self.limits is not None:
            defaults["limits"] = self.limits
        if self.default_response_class is not None:
            defaults["response_class"] = self.default_response_class
        if self.deprecated:
            defaults["deprecated"] = True
        if not self.include_in_schema:
            defaults["include_in_schema"] = False
        if self.generate_unique_id_function is not None:
            defaults["generate_unique_id_function"] = self.generate_unique_id_function
        defaults.update(self.plugin_options)  # type: ignore[typeddict-item]
        return defaults

    def _merge(self, options: RouteOptions) -> RouteOptions:
        return merge_options(self.route_defaults(), options)

    def _added(self, route: BaseRoute) -> None:
        """Called after `route` is added (an `App` serves a route added after its start)."""
        del route

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> Route:
        """Register `endpoint` for `path` and `methods` (default GET).

        Raises:
            TypeError: an option `RouteOptions` doesn't know (a typo is never ignored).
        """
        check_route_options(options, f"route {path!r}")
        full = self.prefix + path
        if not full and self.is_root:
            raise ConfigurationError(
                "a route path may be empty only under a router prefix", "path-format"
            )
        # An empty path waits for the prefix it is included under (checked there).
        route = self.route_class(full or "/", endpoint, methods or ["GET"], self._merge(options))
        route.path = full
        self.routes.append(route)
        self._added(route)
        return route

    def route(
        self, path: str, methods: Sequence[str] | None = None, **options: Unpack[RouteOptions]
    ) -> Callable[[F], F]:
        """Register the decorated function for `path` and `methods` (default GET)."""
        check_route_options(options, f"route {path!r}")

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

    def add_websocket_route(  # noqa: PLR0913 - keyword-only plugin options
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
        *,
        rate_limit: Any = None,
        plugin_options: Mapping[str, Any] | None = None,
    ) -> WebSocketRoute:
        """Register a websocket handler for `path` (`rate_limit`, `plugin_options`: for plugins)."""
        route = WebSocketRoute(
            self.prefix + path,
            endpoint,
            name,
            [*self.dependencies, *(dependencies or [])],
            _ws_options(self.route_defaults(), rate_limit, plugin_options),
        )
        self.routes.append(route)
        self._added(route)
        return route

    def websocket(
        self,
        path: str,
        name: str | None = None,
        dependencies: Sequence[Depends] | None = None,
        *,
        rate_limit: Any = None,
        plugin_options: Mapping[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function as a websocket handler for `path`."""

        def decorator(func: F) -> F:
            self.add_websocket_route(
                path, func, name, dependencies, rate_limit=rate_limit, plugin_options=plugin_options
            )
            return func

        return decorator

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve the ASGI `app` (or another trivium app) under `path`."""
        mount = Mount(self.prefix + path, app, name)
        self.routes.append(mount)
        self._added(mount)

    def include_router(  # noqa: PLR0913 - the options FastAPI's include_router takes
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Depends] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        default_response_class: type[Response] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Any], str] | None = None,
        callbacks: Sequence[Any] | None = None,
        limits: Limits | None = None,
        cache: Any = None,
        rate_limit: Any = None,
        mcp: Any = None,
        plugin_options: Mapping[str, Any] | None = None,
        max_body_size: int | None = None,
        form_limits: Mapping[str, int] | None = None,
    ) -> None:
        """Copy `router`'s routes into this one, under `prefix` with extra options.

        Each option is combined with the route's own by `merge_options` (tags and
        dependencies add up, outer first; the route's own choices win). Routes added to
        `router` after this call are not included. `max_body_size` and `form_limits` are
        FastAPI's spellings of parts of `limits` (see `RouteOptions`).

        Raises:
            ConfigurationError: a bad prefix, a route whose path stays empty, or
                FastAPI's `callbacks` (`unsupported-option`; an empty list documents
                nothing and is accepted, as by `APIRouter(callbacks=[])`).
        """
        if callbacks:
            check_route_options({"callbacks": callbacks}, "include_router")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ConfigurationError(
                f"include prefix {prefix!r} must start with '/' and not end with '/'",
                "router-prefix",
            )
        given = Router(
            tags=tags,
            dependencies=dependencies,
            responses=responses,
            limits=limits,
            default_response_class=default_response_class,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            generate_unique_id_function=generate_unique_id_function,
            cache=cache,
            rate_limit=rate_limit,
            mcp=mcp,
            plugin_options=plugin_options,
        )
        included = given.route_defaults()
        if max_body_size is not None:
            included["max_body_size"] = max_body_size
        if form_limits:
            with_form_limits(Limits(), form_limits)  # a bad key or value fails here, not later
            included["form_limits"] = dict(form_limits)
        defaults = merge_options(self.route_defaults(), included)
        full_prefix = self.prefix + prefix
        for route in router.routes:
            copy = _included(route, full_prefix, defaults)
            self.routes.append(copy)
            self._added(copy)
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


def merge_options(outer: RouteOptions, inner: RouteOptions) -> RouteOptions:
    """Combine a router's (or an include's) `outer` options with a route's `inner` ones.

    The one rule for routers, used when a route is added and when a router is included:
    tags, dependencies and responses add up (outer first, the inner response wins on
    the same status); `deprecated=True` and `include_in_schema=False` win from either
    side; `plugin_options` and `form_limits` merge key by key (the inner key wins); any
    other option is the inner one when set, else the outer one.
    """
    merged: dict[str, Any] = dict(inner)
    given: dict[str, Any] = dict(outer)
    for key, value in given.items():
        if key == "tags":
            merged["tags"] = [*value, *inner.get("tags", [])]
        elif key == "dependencies":
            merged["dependencies"] = [*value, *inner.get("dependencies", ())]
        elif key == "responses":
            merged["responses"] = {**value, **inner.get("responses", {})}
        elif key == "deprecated":
            merged["deprecated"] = bool(value or inner.get("deprecated"))
        elif key == "include_in_schema":
            merged["include_in_schema"] = bool(value and inner.get("include_in_schema", True))
        elif key in ("plugin_options", "form_limits"):
            merged[key] = {**value, **merged.get(key, {})}
        elif key not in inner:
            merged[key] = value
    return merged  # type: ignore[return-value]


def _plugin_defaults(
    cache: Any, rate_limit: Any, mcp: Any, plugin_options: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Return a router's plugin options as route options (the ones it was given)."""
    given = {"cache": cache, "rate_limit": rate_limit, "mcp": mcp}
    defaults: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    if plugin_options:
        defaults["plugin_options"] = dict(plugin_options)
    return defaults


def _included(route: BaseRoute, prefix: str, defaults: RouteOptions) -> BaseRoute:
    """Return a copy of `route` under `prefix` with `defaults` merged into its options."""
    path = prefix + route.path
    if isinstance(route, Route):
        if not path:
            raise ConfigurationError(
                f"route {route.name!r} has an empty path and is included without a prefix; "
                "give the router or include_router a prefix, or the route a path",
                "path-format",
            )
        return type(route)(
            path, route.endpoint, route.methods, merge_options(defaults, route.options)
        )
    if isinstance(route, WebSocketRoute):
        return WebSocketRoute(
            path,
            route.endpoint,
            route.name,
            [*defaults.get("dependencies", ()), *route.dependencies],
            _ws_options(defaults, None, None, route.plugin_options),
        )
    if isinstance(route, Mount):
        return Mount(path, route.app, route.name, fallback=route.fallback)
    return route


def _ws_options(
    defaults: Mapping[str, Any],
    rate_limit: Any,
    plugin_options: Mapping[str, Any] | None,
    own: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a websocket route's plugin options, the routers' first, then its own.

    Routers pass on `rate_limit` and `plugin_options`, not `cache` or `mcp` (HTTP answers).
    """
    merged: dict[str, Any] = dict(defaults.get("plugin_options") or {})
    if defaults.get("rate_limit") is not None:
        merged["rate_limit"] = defaults["rate_limit"]
    merged.update(own or {})
    merged.update(plugin_options or {})
    if rate_limit is not None:
        merged["rate_limit"] = rate_limit
    return merged


def _check_route_class(route_class: type[Route]) -> type[Route]:
    if not (isinstance(route_class, type) and issubclass(route_class, Route)):
        raise ConfigurationError(
            f"route_class={route_class!r} must be a subclass of trivium's Route", "route-class"
        )
    if any("get_route_handler" in vars(cls) for cls in route_class.__mro__):
        raise ConfigurationError(
            f"route_class={route_class.__name__} overrides get_route_handler, which trivium "
            "never calls; move that logic into a middleware or a dependency",
            "route-class",
        )
    return route_class


def _event_lifespan(
    on_startup: Sequence[Callable[[], Any]], on_shutdown: Sequence[Callable[[], Any]]
) -> Lifespan:
    @contextlib.asynccontextmanager
    async def events(app: Any) -> AsyncIterator[None]:
        for func in on_startup:
            result = func()
            if inspect.isawaitable(result):
                await result
        yield
        for func in on_shutdown:
            result = func()
            if inspect.isawaitable(result):
                await result

    return events


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
