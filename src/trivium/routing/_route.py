"""Routes: an HTTP route, a websocket route and a mounted sub-application.

A route keeps what the user declared; `compile()` (run once when the app starts) builds
its extraction plan, call steps and serializer. `handle()` is the whole per-request
path: extract and validate, call, serialize, send, then background tasks and teardown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import TypedDict

import anyio

from trivium.di._depends import Depends
from trivium.di._solver import AppScope
from trivium.di._solver import RequestContext
from trivium.di._solver import run_steps
from trivium.di._solver import teardown
from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.errors import WebSocketException
from trivium.http._limits import Limits
from trivium.http._request import DEFAULT_LIMITS
from trivium.http._request import Request
from trivium.http._response import Response
from trivium.params._analysis import ARG_VALUE
from trivium.params._analysis import CALL_ASYNC
from trivium.protocols._rsgi import RSGIParams
from trivium.protocols._rsgi import lazy_connection
from trivium.protocols._rsgi import send_finalized
from trivium.routing._trie import PathTemplate
from trivium.types import ASGIApp
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.params._analysis import Analysis
    from trivium.params._plan import Plan

__all__ = ["BaseRoute", "Mount", "Route", "RouteOptions", "WebSocketRoute"]

UNSET: Any = object()


class RouteOptions(TypedDict, total=False):
    """Options shared by every route decorator (`app.get(path, **options)`)."""

    name: str
    """The route name for `url_path_for` (default: the function's name)."""
    status_code: int
    """The status of successful responses."""
    response_model: Any
    """The type that filters and documents the output; `None` disables the return annotation."""
    response_class: type[Response]
    """The response class used for returned values (default: JSON)."""
    response_model_exclude_unset: bool
    """Leave out fields the handler never set."""
    response_model_exclude_none: bool
    """Leave out fields whose value is `None`."""
    response_model_by_alias: bool
    """Dump fields by alias (default True)."""
    dependencies: Sequence[Depends]
    """Dependencies run for their effect before the handler."""
    tags: list[str]
    """OpenAPI tags."""
    summary: str
    """OpenAPI summary (default: from the function name)."""
    description: str
    """OpenAPI description (default: the docstring)."""
    response_description: str
    """OpenAPI description of the successful response."""
    responses: dict[int | str, dict[str, Any]]
    """Extra documented responses."""
    deprecated: bool
    """Mark the operation deprecated in OpenAPI."""
    operation_id: str
    """OpenAPI operationId (default: derived from the name and path)."""
    include_in_schema: bool
    """List the route in the OpenAPI document (default True)."""
    openapi_extra: dict[str, Any]
    """Merged into the operation object of the OpenAPI document."""
    max_body_size: int | None
    """The largest request body accepted, in bytes (shortcut for `limits`)."""
    limits: Limits
    """Request limits for this route (default: the router's, else the app's)."""
    tool: bool | dict[str, Any]
    """Offer the route to LLM agents as a tool (opt-in)."""


class BaseRoute:
    """Common parts of every route."""

    __slots__ = ("name", "path", "template")

    def __init__(self, path: str, name: str | None) -> None:
        self.path = path
        self.template = PathTemplate(path)
        self.name = name

    def url_path(self, **params: Any) -> str:
        """Build this route's path with `params` filled in."""
        return self.template.format(params)


class Route(BaseRoute):
    """An HTTP route: a path, methods and a handler."""

    __slots__ = (
        "_direct",
        "_rsgi_direct",
        "_version",
        "analysis",
        "endpoint",
        "limits",
        "methods",
        "options",
        "plan",
        "response_model",
        "serialize",
        "steps",
    )

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str],
        options: RouteOptions,
    ) -> None:
        super().__init__(path, options.get("name") or getattr(endpoint, "__name__", None))
        self.endpoint = endpoint
        self.methods = tuple(dict.fromkeys(m.upper() for m in methods))
        self.options = options
        self.plan: Plan | None = None
        self.steps: list[Any] = []
        self._version = -1
        self.limits: Limits = DEFAULT_LIMITS
        self.analysis: Analysis | None = None
        """The compiled parameter analysis (fields and steps), set by `compile()`."""
        self._direct: tuple[tuple[str, str, str], ...] | None = None
        self._rsgi_direct = False
        self.response_model: Any = None
        """The type that filters the output (option or return annotation), after `compile()`."""

    @property
    def dependencies(self) -> list[Depends]:
        """The route's own dependencies."""
        return list(self.options.get("dependencies", ()))

    def compile(self, app: App) -> None:
        """Build the plan, steps and serializer (start-up only)."""
        from trivium.params._analysis import analyse
        from trivium.params._plan import Plan
        from trivium.routing._serialize import make_serializer
        from trivium.routing._serialize import model_from_annotation

        name = getattr(self.endpoint, "__qualname__", self.path)
        analysis = analyse(
            self.endpoint,
            path_names=set(self.template.names),
            dependencies=(*app.app_dependencies, *self.dependencies),
            overrides=app.dependency_overrides,
        )
        self.plan = Plan(analysis, name.replace(".", "_").replace("<", "").replace(">", ""))
        self.steps = analysis.steps
        self.analysis = analysis
        options = self.options
        model = options.get("response_model", UNSET)
        if model is UNSET:
            model = model_from_annotation(self.endpoint)
        self.response_model = model
        self.serialize = make_serializer(
            response_model=model,
            status_code=options.get("status_code"),
            response_class=options.get("response_class"),
            exclude_unset=options.get("response_model_exclude_unset", False),
            exclude_none=options.get("response_model_exclude_none", False),
            by_alias=options.get("response_model_by_alias", True),
            name=name,
        )
        limits = options.get("limits") or app.limits
        if "max_body_size" in options:
            limits = dataclasses.replace(limits, max_body_size=options["max_body_size"])
        self.limits = limits
        self._direct = _direct_call(analysis) if limits.timeout is None else None
        # Served from the RSGI scope alone: no parameters, or none that need a form body.
        self._rsgi_direct = self._direct is not None and self.plan.body_mode != "form"
        self._version = app.dependency_overrides.version

    async def _run_with_timeout(self, request: Request, ctx: RequestContext, seconds: float) -> Any:
        async def run() -> Any:
            values = await self.plan.extract(request)  # type: ignore[union-attr]
            return await run_steps(self.steps, values, ctx)

        return await _timed(run(), seconds)

    async def serve_rsgi(
        self, rsgi: Any, protocol: Any, app: App, path_params: dict[str, Any] | None
    ) -> None:
        """Serve an RSGI request (app without user middleware), directly when possible.

        A plain async handler is served without building an ASGI scope: its parameters
        come from the path, query, headers, cookies and a JSON body of declared length
        within the limit, all read straight from the RSGI scope, and the usual answer
        (a fully rendered response, no background work) goes to `response_bytes`.
        Errors (422 included) and streamed responses continue on `handle` with a real
        scope, without calling the handler again. Other handlers, and bodies without a
        usable `Content-Length`, take `handle` from the start.
        """
        direct = self._direct
        if not self._rsgi_direct or self._version != app.dependency_overrides.version:
            await self._continue_rsgi(rsgi, protocol, app, path_params, None)
            return
        try:
            if direct:
                if self.plan.body_mode and not self._body_fits(rsgi):  # type: ignore[union-attr]
                    await self._continue_rsgi(rsgi, protocol, app, path_params, None)
                    return
                view = RSGIParams(rsgi, path_params, protocol, self.limits)
                values = await self.plan.extract(view)  # type: ignore[union-attr,arg-type]
                result = await self.endpoint(**_arguments(direct, values))
            else:
                result = await self.endpoint()
            outcome: Any = self.serialize(result, _NO_CONTEXT)
        except Exception as exc:  # noqa: BLE001 - answered by `handle` below
            outcome = exc
        else:
            if outcome.background is None and type(outcome).__call__ is Response.__call__:
                send_finalized(protocol, outcome, rsgi.method == "HEAD", app)
                return
        await self._continue_rsgi(rsgi, protocol, app, path_params, outcome)

    def _body_fits(self, rsgi: Any) -> bool:
        declared = rsgi.headers.get("content-length")
        if declared is None or not (declared.isascii() and declared.isdigit()):
            return False
        limit = self.limits.max_body_size
        return limit is None or int(declared) <= limit

    async def _continue_rsgi(
        self,
        rsgi: Any,
        protocol: Any,
        app: App,
        path_params: dict[str, Any] | None,
        outcome: Any,
    ) -> None:
        scope, receive, send = lazy_connection(rsgi, protocol, app)
        if path_params:
            scope["path_params"] = path_params
        await self.handle(scope, receive, send, app, outcome)

    async def handle(  # noqa: C901 - the hot path, kept in one frame
        self, scope: Scope, receive: Receive, send: Send, app: App, outcome: Any = None
    ) -> None:
        """Serve one request.

        `outcome` is what `serve_rsgi` already got from the handler (a response or
        the exception it raised); the handler is then not called again.
        """
        if self._version != app.dependency_overrides.version:
            self.compile(app)
        direct = self._direct
        # A handler without parameters never reads the request: build it only on error.
        request = None if direct == () else Request(scope, receive, send, limits=self.limits)
        # A plain async handler with only request parameters needs no dependency context.
        ctx = _NO_CONTEXT if direct is not None else RequestContext(request, app.app_scope)
        error: Exception | None = None
        reraise = False
        try:
            if outcome is not None:
                if isinstance(outcome, Exception):
                    raise outcome
                result = outcome
            elif direct == ():
                result = await self.endpoint()
            elif direct is not None:
                values = await self.plan.extract(request)  # type: ignore[union-attr,arg-type]
                result = await self.endpoint(**_arguments(direct, values))
            elif self.limits.timeout is None:
                values = await self.plan.extract(request)  # type: ignore[union-attr,arg-type]
                result = await run_steps(self.steps, values, ctx)
            else:
                result = await self._run_with_timeout(
                    request,  # type: ignore[arg-type]
                    ctx,
                    self.limits.timeout,
                )
            if ctx.function_stack:
                leftover = await teardown(ctx.function_stack, None, ctx.limiter)
                if leftover is not None:
                    raise leftover
            response = self.serialize(result, ctx)
        except Exception as exc:  # noqa: BLE001 - every error becomes a response
            error = exc
            if ctx.function_stack:
                # A function-scoped teardown may translate the error (e.g. into an HTTPException).
                replaced = await teardown(ctx.function_stack, exc, ctx.limiter)
                if isinstance(replaced, Exception):
                    error = replaced
            if request is None:
                request = Request(scope, receive, send, limits=self.limits)
            response, reraise = await app.error_response(request, error)
        background = ctx.background
        if background is not None and background.tasks:
            if response.background is None:
                response.background = background
            else:
                response.background = _chain(response.background, background)
        try:
            protocol = scope.get("rsgi")
            if type(response).__call__ is not Response.__call__:
                if request is None:
                    request = Request(scope, receive, send, limits=self.limits)
                app.finalize(response)
                failure = await _send_streamed(response, scope, receive, send, request, app)
                if failure is not None:
                    error, reraise = failure
            elif protocol is not None:
                # Adds the app's default headers itself (cached per header list).
                send_finalized(protocol, response, scope["method"] == "HEAD", app)
                if response.background is not None:
                    await response.background()
            else:
                await app.finalize(response)(scope, receive, send)
        finally:
            if ctx.request_stack:
                leftover = await teardown(ctx.request_stack, error, ctx.limiter)
                if leftover is not None and leftover is not error:
                    app.log_teardown_error(leftover)
            if request is not None and request._form is not None:
                await request.close()
        if reraise and error is not None:
            raise error


async def _send_streamed(  # noqa: PLR0913 - the connection plus what its error path needs
    response: Response, scope: Scope, receive: Receive, send: Send, request: Request, app: App
) -> tuple[Exception, bool] | None:
    """Send a streaming or file response; an error before its first byte becomes a 500."""
    started = False

    async def tracking_send(message: Any) -> None:
        nonlocal started
        started = True
        await send(message)

    try:
        await response(scope, receive, tracking_send)
    except Exception as exc:
        if started:
            raise
        fallback, reraise = await app.error_response(request, exc)
        await app.finalize(fallback)(scope, receive, send)
        return exc, reraise
    return None


async def _timed(coroutine: Any, seconds: float) -> Any:
    try:
        with anyio.fail_after(seconds):
            return await coroutine
    except TimeoutError:
        raise HTTPException(503, f"The request took longer than {seconds:g} seconds") from None


_NO_CONTEXT = RequestContext(None, AppScope())


def _direct_call(analysis: Analysis) -> tuple[tuple[str, str, str], ...] | None:
    """Return the handler's arguments when it can be awaited directly, else `None`."""
    if len(analysis.steps) != 1 or analysis.specials:
        return None
    step = analysis.steps[0]
    if step.kind != CALL_ASYNC or any(source != ARG_VALUE for _, source, _ in step.args):
        return None
    return tuple((name, key[0], key[1]) for name, _, key in step.args)


def _arguments(direct: tuple[tuple[str, str, str], ...], values: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a directly called handler, from its validated values."""
    return {
        name: values[section][field] if field else values[section]
        for name, section, field in direct
    }


def _chain(first: Callable[[], Any], second: Callable[[], Any]) -> Callable[[], Any]:
    async def both() -> None:
        await first()
        await second()

    return both


class WebSocketRoute(BaseRoute):
    """A websocket route."""

    __slots__ = ("_version", "analysis", "dependencies", "endpoint", "plan", "steps")

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        dependencies: Sequence[Depends] = (),
    ) -> None:
        super().__init__(path, name or getattr(endpoint, "__name__", None))
        self.endpoint = endpoint
        self.dependencies = list(dependencies)
        self.plan: Plan | None = None
        self.steps: list[Any] = []
        self._version = -1
        self.analysis: Analysis | None = None

    def compile(self, app: App) -> None:
        """Build the plan and steps (start-up only)."""
        from trivium.params._analysis import analyse
        from trivium.params._plan import Plan

        analysis = analyse(
            self.endpoint,
            path_names=set(self.template.names),
            dependencies=(*app.app_dependencies, *self.dependencies),
            overrides=app.dependency_overrides,
            websocket=True,
        )
        name = getattr(self.endpoint, "__qualname__", self.path)
        self.plan = Plan(analysis, name.replace(".", "_").replace("<", "").replace(">", ""))
        self.steps = analysis.steps
        self.analysis = analysis
        self._version = app.dependency_overrides.version

    async def handle(self, scope: Scope, receive: Receive, send: Send, app: App) -> None:
        """Serve one websocket connection."""
        from trivium.http._websocket import WebSocket
        from trivium.http._websocket import WebSocketDisconnect
        from trivium.http._websocket import WebSocketState

        if self._version != app.dependency_overrides.version:
            self.compile(app)
        websocket = WebSocket(scope, receive, send)
        ctx = RequestContext(websocket, app.app_scope)
        error: Exception | None = None
        try:
            values = await self.plan.extract(websocket)  # type: ignore[union-attr]
            await run_steps(self.steps, values, ctx)
            if websocket.application_state is WebSocketState.CONNECTED:
                # The handler returned without closing: finish the handshake politely.
                await websocket.close(1000)
        except WebSocketDisconnect:
            pass
        except (WebSocketException, HTTPException) as exc:
            code, reason = _close_for(exc)
            if websocket.application_state is not WebSocketState.DISCONNECTED:
                await websocket.close(code, reason)
        except Exception as exc:
            error = exc
            if websocket.application_state is not WebSocketState.DISCONNECTED:
                await websocket.close(1011, "Internal error")
            raise
        finally:
            stack = ctx.function_stack + ctx.request_stack
            if stack:
                await teardown(stack, error, ctx.limiter)


def _close_for(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, WebSocketException):
        return exc.code, _reason(exc.reason)
    if isinstance(exc, RequestValidationError):
        return 1008, _reason(
            "Invalid parameters: "
            + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        )
    assert isinstance(exc, HTTPException)
    return 1008, _reason(str(exc.detail))


def _reason(text: str) -> str:
    # A close frame carries at most 123 bytes of UTF-8 reason.
    data = text.encode()
    if len(data) <= 123:
        return text
    return data[:120].decode(errors="ignore") + "..."


class Mount(BaseRoute):
    """An ASGI application (another trivium app, static files, a WSGI bridge) under a prefix."""

    __slots__ = ("app",)

    def __init__(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        path = "/" + path.strip("/") if path.strip("/") else ""
        super().__init__(path or "/", name)
        self.path = path
        self.app = app

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request to the mounted app with `root_path` extended by the prefix."""
        materialize = getattr(scope, "materialize", None)
        child = materialize() if materialize is not None else dict(scope)
        child["root_path"] = scope.get("root_path", "") + self.path
        child.pop("app", None)
        await self.app(child, receive, send)
