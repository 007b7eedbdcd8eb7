"""`App`: the ASGI application object.

The app is a `Router` with the things only the root has: compilation, the middleware
stack, exception handlers, the lifespan and `url_path_for`. Everything is compiled
once (`App.build()`, run at lifespan start-up or on the first request), so the
per-request path is: match in the trie, then the route's own compiled `handle`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import anyio

from trivium._config import DocsConfig
from trivium._config import HTTPConfig
from trivium._config import OptionAttributes
from trivium._config import from_keywords
from trivium._config import merge
from trivium._config import with_limit_spellings
from trivium._lifespan import app_lifespan
from trivium._lifespan import asgi_lifespan
from trivium.di._depends import Depends
from trivium.di._overrides import DependencyOverrides
from trivium.di._solver import AppScope
from trivium.di._solver import RequestContext
from trivium.di._solver import resolving
from trivium.environment import ENV_VARIABLE
from trivium.environment import production
from trivium.errors import ConfigurationError
from trivium.http._host import KNOWN_HOSTS
from trivium.http._host import host_problem_rsgi
from trivium.http._limits import Limits
from trivium.http._request import DEFAULT_MAX_BODY_SIZE
from trivium.http._request import Request
from trivium.http._response import Response
from trivium.middleware._edge import Edge
from trivium.middleware._edge import EdgePolicy
from trivium.middleware._edge import ExceptionHandler
from trivium.middleware._stack import Middleware
from trivium.middleware._stack import build_stack
from trivium.plugins._host import PluginHost
from trivium.plugins._plugin import Plugin
from trivium.protocols._authority import with_authority
from trivium.protocols._rsgi import http_scope
from trivium.protocols._rsgi import rsgi_receive
from trivium.protocols._rsgi import rsgi_send
from trivium.protocols._rsgi import send_response
from trivium.protocols._rsgi import websocket_adapters
from trivium.protocols._rsgi_http import http_server as rsgi_http_server
from trivium.protocols._worker import WorkerLifespan
from trivium.protocols._worker import settle_collector
from trivium.routing._router import Lifespan
from trivium.routing._router import Router
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from trivium.protocols import ServerOptions
    from trivium.routing._dispatch import Dispatcher
    from trivium.routing._route import BaseRoute

__all__ = [
    "DEFAULT_SECURITY_HEADERS",
    "PRODUCTION_ENV",
    "App",
    "DependencyOverrides",
    "DocsConfig",
    "HTTPConfig",
]

PRODUCTION_ENV = ENV_VARIABLE
"""The environment variable that, set to `production`, puts apps in production mode."""

DEFAULT_SECURITY_HEADERS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
"""What `App(security_headers=True)`, the default, adds to responses (as Django does)."""

logger = logging.getLogger("trivium.error")
E = TypeVar("E", bound=Callable[..., Any])


class App(OptionAttributes, PluginHost, Router):  # type: ignore[misc]  # `limits`: a Setting here, an optional default on routers
    """A trivium application: an ASGI 3 callable with routes, middleware and a lifespan.

    The options keep FastAPI's keyword names; each belongs to one frozen group, given
    whole or filled by its keywords (setting one option both ways, to two values, is
    refused: `app-docs-config`, `app-http-config`):

    - `docs=DocsConfig(...)`: `title`, `version`, `description`, `summary`, `contact`,
      `license_info`, `terms_of_service`, `openapi_url`, `docs_url`, `redoc_url`,
      `servers`, `openapi_tags`, `swagger_ui_parameters`, `separate_input_output_schemas`;
    - `http=HTTPConfig(...)`: `root_path` (`openapi_prefix` is FastAPI's old name for
      it), `redirect_slashes`, `strict_content_type`, `security_headers`, `limits`
      (`max_body_size` is FastAPI's spelling of `Limits.max_body_size`; two values are
      refused: `app-body-limit`; `form_limits={"max_fields": ..., "max_files": ...,
      "max_part_size": ...}` is FastAPI's spelling of `Limits.form`) and `thread_pool_size`.

    Each option is also an attribute (`app.title`, `app.root_path`) that reads its group
    (`app.docs_config`, `app.http_config`) and, assigned before start-up, replaces it.

    Args:
        debug: show tracebacks in 500 responses (refused in production mode:
            `app-production-debug`).
        lifespan: `lifespan(app)` returning an async context manager, run around serving;
            a mapping it yields becomes the per-request `request.state` seed.
        on_startup: callables run at start-up, before `lifespan`.
        on_shutdown: callables run at shutdown, after `lifespan`.
        dependencies: dependencies run before every handler.
        middleware: `Middleware(cls, **options)` items, first is outermost.
        exception_handlers: handlers by exception class or status code.
        routes: routes to start with.
        default_response_class: the response class of routes that don't name one.
        responses: extra OpenAPI responses documented on every route.
        generate_unique_id_function: builds the operationId of routes that don't set
            one (`lambda route: f"{route.tags[0]}-{route.name}"`).
        plugins: plugins to install (`app.install(plugin)` for each, in order).
        docs: the documentation options (see `DocsConfig`).
        http: the request-handling options (see `HTTPConfig`).
    """

    is_root = True

    def __init__(  # noqa: PLR0913 - the constructor FastAPI users know
        self,
        *,
        debug: bool = False,
        title: str = "Trivium",
        version: str = "0.1.0",
        description: str = "",
        lifespan: Lifespan | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        dependencies: Sequence[Depends] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, ExceptionHandler] | None = None,
        redirect_slashes: bool = True,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        form_limits: Mapping[str, int] | None = None,
        limits: Limits | None = None,
        thread_pool_size: int = 40,
        routes: Sequence[Any] | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        servers: Sequence[Mapping[str, Any]] | None = None,
        openapi_tags: Sequence[Mapping[str, Any]] | None = None,
        security_headers: bool | Mapping[str, str] = True,
        root_path: str = "",
        openapi_prefix: str = "",
        default_response_class: type[Response] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        generate_unique_id_function: Callable[[Any], str] | None = None,
        summary: str | None = None,
        contact: Mapping[str, Any] | None = None,
        license_info: Mapping[str, Any] | None = None,
        terms_of_service: str | None = None,
        swagger_ui_parameters: Mapping[str, Any] | None = None,
        separate_input_output_schemas: bool = True,
        strict_content_type: bool = True,
        plugins: Sequence[Plugin] | None = None,
        docs: DocsConfig | None = None,
        http: HTTPConfig | None = None,
    ) -> None:
        keywords = dict(locals())  # the arguments: each option keyword fills its group's field
        keywords.update(root_path=root_path or openapi_prefix, limits=limits or Limits())
        self.docs_config = merge(docs, from_keywords(DocsConfig, keywords))
        """The documentation options (`app.title`, `app.docs_url`... read it)."""
        http_config = merge(http, from_keywords(HTTPConfig, keywords))
        self.http_config = with_limit_spellings(http_config, max_body_size, form_limits)
        """The request-handling options (`app.root_path`, `app.limits`... read it)."""
        super().__init__(
            lifespan=lifespan,
            responses=responses,
            limits=self.http_config.limits,
            default_response_class=default_response_class,
            generate_unique_id_function=generate_unique_id_function,
        )
        self._init_state(debug, dependencies, middleware, exception_handlers)
        self.on_startup = list(on_startup or [])
        self.on_shutdown = list(on_shutdown or [])
        self.routes.extend(routes or [])
        self._init_plugins()
        for plugin in plugins or ():
            self.install(plugin)

    def _init_state(
        self,
        debug: bool,
        dependencies: Sequence[Depends] | None,
        middleware: Sequence[Middleware] | None,
        exception_handlers: Mapping[Any, ExceptionHandler] | None,
    ) -> None:
        # Unlike a plain router, app-wide dependencies are applied at compile time so
        # that they also cover routes added later and included routers.
        self.dependencies = []
        self.app_dependencies: list[Depends] = list(dependencies or [])
        self.debug = debug
        self.environment: str | None = None
        """The deployment environment the app's settings name (`trivium.conf.Settings`
        sets it); `None`: the `TRIVIUM_ENV` environment variable decides."""
        self.user_middleware: list[Middleware] = list(middleware or [])
        self.exception_handlers: dict[Any, ExceptionHandler] = dict(exception_handlers or {})
        self._dependency_overrides = DependencyOverrides()
        self.app_scope = AppScope()
        from trivium.http._datastructures import State

        self.state = State()
        """App-wide state (`app.state.db = ...`)."""
        self._asgi: Edge | None = None
        self._dispatcher: Dispatcher | None = None
        self._lifespan_state: dict[str, Any] | None = None
        self._rsgi_http: Callable[[Any, Any], Awaitable[None]] | None = None
        self._rsgi_headers: dict[Any, list[tuple[str, str]]] = {}  # see send_finalized
        self._rsgi_lifespan: WorkerLifespan | None = None
        self.default_headers = self._security_headers()
        """Header pairs added to every response that lacks them (built again at start-up)."""
        self.policy = EdgePolicy()
        """What the edge applies to every response (default headers, error handling).

        Built from the app's settings when the app is compiled."""
        self.openapi_schema: dict[str, Any] | None = None
        """The generated OpenAPI document, cached by `openapi()`."""

    def _security_headers(self) -> list[tuple[bytes, bytes]]:
        headers = self.http_config.security_headers
        if headers is True:
            headers = DEFAULT_SECURITY_HEADERS
        return [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ]

    # Registration ---------------------------------------------------------------------

    def _added(self, route: BaseRoute) -> None:
        # A route added once the app is built (a test adding one to a started app, as
        # FastAPI allows) is compiled and served from now on; the document is redone.
        if self._dispatcher is not None:
            self._dispatcher.add(route)
            self.openapi_schema = None

    def add_middleware(self, cls: Any, *args: Any, **options: Any) -> None:
        """Add a pure ASGI middleware; the last added is the outermost."""
        if self._asgi is not None:
            raise ConfigurationError(
                "middleware cannot be added after the app has started; add it before the "
                "first request (or pass middleware=[...] to App)",
                "middleware-after-start",
            )
        self.user_middleware.insert(0, Middleware(cls, *args, **options))

    def middleware_of(self, cls: type) -> list[Middleware]:
        """Return the middleware entries of class `cls` (or a subclass), outermost first.

        The typed way for a plugin to see how the app is configured (a trusted-host check,
        a middleware that clashes with it) without editing `user_middleware`.
        """
        return [
            item
            for item in self.user_middleware
            if isinstance(item.cls, type) and issubclass(item.cls, cls)
        ]

    def middleware(self, kind: str) -> Callable[[E], E]:
        """Add the decorated `dispatch(request, call_next)` as middleware (`kind` is `"http"`).

        As `add_middleware(BaseHTTPMiddleware, dispatch=func)`: the last added is the
        outermost. See `trivium.middleware.BaseHTTPMiddleware`.
        """
        if kind != "http":
            raise ConfigurationError(
                f"app.middleware({kind!r}): only 'http' middleware exists", "middleware-kind"
            )

        def decorator(func: E) -> E:
            from trivium.middleware._base import BaseHTTPMiddleware

            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator

    def add_exception_handler(
        self, key: type[BaseException] | int, handler: ExceptionHandler
    ) -> None:
        """Handle exceptions of class `key` (or HTTP errors with status `key`) with `handler`.

        Raises:
            ConfigurationError: the app has started (`exception-handler-after-start`).
        """
        if self._asgi is not None:
            raise ConfigurationError(
                "exception handlers cannot be added after the app has started; add them "
                "before the first request (or pass exception_handlers={...} to App)",
                "exception-handler-after-start",
            )
        self.exception_handlers[key] = handler

    def exception_handler(self, key: type[BaseException] | int) -> Callable[[E], E]:
        """Register the decorated `handler(request, exc)` for `key` (a class or status)."""

        def decorator(func: E) -> E:
            self.add_exception_handler(key, func)
            return func

        return decorator

    def on_event(self, event: str) -> Callable[[E], E]:
        """Register a `"startup"` or `"shutdown"` callable."""
        if event not in ("startup", "shutdown"):
            raise ConfigurationError(
                f"unknown event {event!r}; use 'startup' or 'shutdown'", "unknown-event"
            )

        def decorator(func: E) -> E:
            (self.on_startup if event == "startup" else self.on_shutdown).append(func)
            return func

        return decorator

    @property
    def production(self) -> bool:
        """Whether the app runs in production mode: `TRIVIUM_ENV=production`.

        An app given settings (`trivium.conf.Settings` as a plugin) follows their `env`.
        A production app with `debug` on refuses to start (`app-production-debug`).

        Batteries read it at start-up to refuse settings that are only safe on a
        developer's machine (`trivium.auth` without a site URL, say).
        """
        env = self.environment
        if env is None:
            return production()
        return env == "production"

    @property
    def limiter(self) -> anyio.CapacityLimiter | None:
        """The limiter of sync handlers and dependencies, created on first use while serving."""
        return self.app_scope.limiter

    # Compilation ----------------------------------------------------------------------

    def build(self) -> None:
        """Compile routes, the trie and the middleware stack; idempotent.

        Raises:
            ConfigurationError: something in the app's declarations is wrong.
        """
        if self._asgi is not None:
            return
        if self.debug and self.production:
            # Debug pages show tracebacks, SQL and its parameters: never to visitors.
            raise ConfigurationError(
                "production mode (TRIVIUM_ENV=production) refuses App(debug=True), which "
                "shows tracebacks to visitors; pass debug=False (from settings: set "
                "TRIVIUM_DEBUG=false or remove it from .env)",
                "app-production-debug",
            )
        from trivium.routing._dispatch import Dispatcher

        replaced = any(
            getattr(m.cls, "replaces_default_headers", False) for m in self.user_middleware
        )
        self.default_headers = [] if replaced else self._security_headers()

        self._build_plugins()
        dispatcher = Dispatcher(self)
        self._dispatcher = dispatcher
        stack = build_stack(dispatcher, self.user_middleware)
        if replaced:
            # The middleware's own fixed headers, added by the edge to what never passes
            # through it: an outer middleware's answer (TrustedHost's 400), the edge's 500.
            self.default_headers = _replacement_headers(stack)
        # Last, once everything that may register handlers or headers has run.
        self.policy = EdgePolicy(
            tuple(self.default_headers),
            self.exception_handlers,
            self.debug,
            plain_server_errors=self.http_config.plain_server_errors,
            errors_reach_middleware=bool(self.user_middleware),
        )
        self._asgi = Edge(stack, self.policy, guard=bool(self.user_middleware))
        direct = not self.user_middleware and not self.http_config.root_path
        self._rsgi_http = rsgi_http_server(dispatcher, self) if direct else None

    def openapi(self) -> dict[str, Any]:
        """Return the OpenAPI 3.1 document of the app (built once, then cached)."""
        if self.openapi_schema is None:
            self.build()
            self.openapi_schema = importlib.import_module("trivium.openapi").generate(self)
        return self.openapi_schema

    def tool_schemas(self, format: str = "openai") -> list[dict[str, Any]]:
        """Return the routes opted in with `tool=True` as LLM tool definitions.

        `format` is `"openai"`, `"anthropic"` or `"mcp"`.
        """
        self.build()
        module = importlib.import_module("trivium.openapi")
        return module.tool_schemas(self, format=format)  # type: ignore[no-any-return]

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """Return the path of the route called `name` with `params` filled in.

        Raises:
            NoMatchFound: no route has that name, or the parameters don't fit it.
        """
        self.build()
        assert self._dispatcher is not None
        return self._dispatcher.url_path_for(name, params)

    # Serving --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (HTTP, websocket or lifespan)."""
        scope["app"] = self
        if scope["type"] == "lifespan":  # builds the app: a misuse fails the start-up
            await asgi_lifespan(self, scope, receive, send)
            return
        if self._asgi is None:
            self.build()
        if self.http_config.root_path:
            scope["root_path"] = self.http_config.root_path
        await self._asgi(scope, receive, send)  # type: ignore[misc]

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        """Serve one connection over RSGI (Granian's native interface)."""
        serve = self._rsgi_http
        if serve is None and self._asgi is None:
            self.build()
            serve = self._rsgi_http
        if serve is not None and scope.proto == "http":
            # The edge's `Host` check, inline: one look-up when the value was seen before.
            hosts = scope.headers.get_all("host")
            if len(hosts) != 1 or hosts[0] not in KNOWN_HOSTS:
                if not hosts:  # HTTP/2: the host is the `:authority`
                    scope = with_authority(scope)
                    hosts = scope.headers.get_all("host")
                problem = host_problem_rsgi(hosts, scope.http_version)
                if problem is not None:
                    refusal = self._asgi.refusal(problem)  # type: ignore[union-attr]
                    send_response(protocol, refusal, scope.method == "HEAD")
                    return
            await serve(scope, protocol)  # no user middleware: the dispatcher's RSGI path
            return
        if scope.proto == "http":
            asgi_scope = http_scope(scope, "http", self._lifespan_state)
            asgi_scope["app"] = self
            if self.http_config.root_path:
                asgi_scope["root_path"] = self.http_config.root_path
            send = rsgi_send(protocol, scope.method == "HEAD")
            try:
                await self._asgi(asgi_scope, rsgi_receive(protocol, scope), send)  # type: ignore[misc]
            except BaseException:
                send.abandon()
                raise
        elif scope.proto in ("ws", "websocket"):
            asgi_scope = http_scope(scope, "websocket", self._lifespan_state)
            asgi_scope["app"] = self
            if self.http_config.root_path:
                asgi_scope["root_path"] = self.http_config.root_path
            ws_receive, ws_send = websocket_adapters(protocol)
            await self._asgi(asgi_scope, ws_receive, ws_send)  # type: ignore[misc]

    def __rsgi_init__(self, loop: Any) -> None:
        """Run the lifespan start-up when a Granian RSGI worker starts.

        A `ConfigurationError` (a database that does not exist, say) is logged as one
        line and ends the worker with status 3, instead of a traceback of the driver.
        """
        lifespan = WorkerLifespan()
        try:
            self._lifespan_state = lifespan.start(loop, self.lifespan_context())
        except ConfigurationError as exc:
            logger.error("start-up failed: %s", exc.one_line())
            raise SystemExit(3) from None
        self._rsgi_lifespan = lifespan
        settle_collector()  # freeze what start-up built; fewer young collections

    def __rsgi_del__(self, loop: Any) -> None:
        """Run the lifespan shutdown when a Granian RSGI worker stops."""
        lifespan, self._rsgi_lifespan = self._rsgi_lifespan, None
        if lifespan is not None:
            lifespan.stop(loop)

    @contextlib.asynccontextmanager
    async def lifespan_context(self) -> AsyncIterator[dict[str, Any]]:
        """Run start-up (handlers, lifespan of the plugins, the app, its routers and mounted apps) and yield the state."""
        async with app_lifespan(self) as state:
            yield state

    @contextlib.asynccontextmanager
    async def resolve(self, dependency: Callable[..., Any]) -> AsyncIterator[Any]:
        """Resolve `dependency` outside a request (CLI, worker, test) and tear it down after.

        Request parameters must have defaults; `Request` cannot be injected. App-scoped
        dependencies are shared with the running app.
        """
        from trivium.params._analysis import analyse
        from trivium.params._plan import Plan

        self.build()
        analysis = analyse(
            dependency, path_names=set(), overrides=self.effective_overrides(), handler=False
        )
        required = [f.name or f.python_name for f in analysis.fields if f.required]
        if required or analysis.specials & {"request", "websocket"}:
            raise ConfigurationError(
                f"{getattr(dependency, '__qualname__', dependency)} needs a request "
                f"({', '.join(required) or 'Request'}); it cannot be resolved outside one",
                "resolve-needs-request",
            )
        plan = Plan(analysis, "resolve")
        values = plan.defaults_only()
        ctx = RequestContext(None, self.app_scope)
        async with resolving(analysis.steps, ctx, values) as value:
            yield value

    def run(self, **options: Unpack[ServerOptions]) -> None:
        """Serve the app (Granian over RSGI by default); options as `trivium.protocols.serve`.

        `app.run(port=8080, interface="asgi")`; reload and several workers need an
        import string, so use `trivium run module:app --reload` for those.
        """
        from trivium.protocols import serve

        serve(self, **options)

    def finalize(self, response: Response) -> Response:
        """Add the app's default headers that `response` doesn't set itself."""
        self.build()
        return self.policy.finalize(response)

    @property
    def dependency_overrides(self) -> DependencyOverrides:
        """Replacements for dependencies, `{declared: replacement}` (tests, local setups)."""
        return self._dependency_overrides

    @dependency_overrides.setter
    def dependency_overrides(
        self, overrides: Mapping[Callable[..., Any], Callable[..., Any]] | None
    ) -> None:
        # `app.dependency_overrides = {}` (or `None`), FastAPI tests' teardown: the app
        # keeps its one mapping (the routes watch it for changes) and takes the contents.
        current = self._dependency_overrides
        if overrides is not current:
            current.clear()
            current.update(overrides or {})

    async def error_response(self, request: Request, exc: Exception) -> tuple[Response, bool]:
        """Turn `exc` into a response, default headers included.

        The flag says whether to re-raise `exc` after sending: only unexpected errors
        are, so that the server logs them.
        """
        self.build()
        return await self.policy.error_response(request, exc)

    def log_teardown_error(self, exc: BaseException) -> None:
        """Log an error raised by a dependency's teardown after the response was sent."""
        logger.error("dependency teardown failed", exc_info=exc)


def _replacement_headers(stack: Any) -> list[tuple[bytes, bytes]]:
    """The fixed headers of the middleware in `stack` that replaces the default ones."""
    layer = stack
    while layer is not None:
        if getattr(type(layer), "replaces_default_headers", False):
            return list(getattr(layer, "fixed_headers", ()))
        layer = getattr(layer, "app", None)
    return []
