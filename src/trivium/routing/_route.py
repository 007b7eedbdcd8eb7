"""HTTP routes (websocket routes and mounts are in `_ws_route`).

A route keeps what the user declared; `compile()` (run once when the app starts) builds
its extraction plan, call steps and serializer. `handle()` is the whole per-request
path: extract and validate, call, serialize, send, then background tasks and teardown.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import anyio

from trivium.di._depends import Depends
from trivium.di._solver import AppScope
from trivium.di._solver import RequestContext
from trivium.di._solver import run_steps
from trivium.di._solver import teardown
from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http._limits import Limits
from trivium.http._request import DEFAULT_LIMITS
from trivium.http._request import Request
from trivium.http._request import scope_header
from trivium.http._response import Response
from trivium.params._analysis import ARG_VALUE
from trivium.params._analysis import CALL_ASYNC
from trivium.params._analysis import Special
from trivium.plugins._plugin import RouteNeeds
from trivium.protocols._rsgi import RSGIParams
from trivium.protocols._rsgi import lazy_connection
from trivium.protocols._rsgi import send_finalized
from trivium.routing._options import RouteOptions
from trivium.routing._options import plugin_options_of
from trivium.routing._trie import PathTemplate
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.params._analysis import Analysis
    from trivium.params._plan import Plan

__all__ = ["BaseRoute", "Route"]

UNSET: Any = object()


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
        "_after",
        "_before",
        "_direct",
        "_observer",
        "_rsgi_direct",
        "_version",
        "analysis",
        "endpoint",
        "limits",
        "methods",
        "options",
        "plan",
        "request_steps",
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
        self.request_steps: tuple[Any, ...] = ()
        """The plugins' request steps compiled into the route (set by `compile()`)."""
        self._version = -1
        self.limits: Limits = DEFAULT_LIMITS
        self.analysis: Analysis | None = None
        """The compiled parameter analysis (fields and steps), set by `compile()`."""
        self._direct: tuple[tuple[str, str, str], ...] | None = None
        self._rsgi_direct = False
        self._before: tuple[Callable[[Any], Awaitable[None]], ...] = ()
        self._after: tuple[Callable[[Request, Response], Awaitable[None]], ...] = ()
        self._observer: Any = None
        self.response_model: Any = None
        """The type that filters the output (option or return annotation), after `compile()`."""

    @property
    def dependencies(self) -> list[Depends]:
        """The route's own dependencies."""
        return list(self.options.get("dependencies", ()))

    @property
    def plugin_options(self) -> dict[str, Any]:
        """The route's options for plugins (`cache`, `rate_limit`, `mcp`, `plugin_options`)."""
        return plugin_options_of(self.options)

    @property
    def tags(self) -> list[str]:
        """The route's OpenAPI tags (for `generate_unique_id_function`)."""
        return list(self.options.get("tags", ()))

    @property
    def path_format(self) -> str:
        """The path template, as FastAPI's `APIRoute.path_format` names it."""
        return self.path

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
            overrides=app.effective_overrides(),
        )
        self.plan = Plan(
            analysis,
            name.replace(".", "_").replace("<", "").replace(">", ""),
            strict_content_type=app.http_config.strict_content_type,
            json_errors_as_validation=app.http_config.json_errors_as_validation,
        )
        self.steps = analysis.steps
        self.analysis = analysis
        if app.http_config.strict_path_params and not analysis.specials & CONNECTION_SPECIALS:
            _check_path_params(self.path, self.template.names, analysis, name)
        needs = RouteNeeds(
            self.path,
            self.methods,
            self.endpoint,
            takes_connection=bool(analysis.specials & CONNECTION_SPECIALS),
            options=self.plugin_options,
        )
        request_steps = app.request_steps(needs)
        self.request_steps = tuple(request_steps)
        self._before = tuple(step.before for step in request_steps if step.runs_before())
        self._after = tuple(step.after for step in reversed(request_steps) if step.runs_after())
        self._observer = _one(app.observers(needs))
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
            exclude_defaults=options.get("response_model_exclude_defaults", False),
            include=options.get("response_model_include"),
            exclude=options.get("response_model_exclude"),
            name=name,
            endpoint=self.endpoint,
        )
        limits = options.get("limits") or app.http_config.limits
        if "max_body_size" in options:
            limits = dataclasses.replace(limits, max_body_size=options["max_body_size"])
        self.limits = limits
        # A plain async handler is awaited directly, request steps or not.
        self._direct = _direct_call(analysis) if limits.timeout is None else None
        # Served on RSGI without `handle`: a plain handler whose parameters need no form
        # (with request steps, through a `Request`; without, from the RSGI scope alone).
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
        observer = self._observer
        # `started` holds what the observer's `start` returned, in a list only when
        # the request leaves this path (so `None` means "not started yet").
        state = observer.start(rsgi.headers.get) if observer is not None else None
        if self._before or self._after:
            started = None if observer is None else [state]
            await self._serve_rsgi_stepped(rsgi, protocol, app, path_params, started)
            return
        try:
            if direct:
                if self.plan.body_mode and not self._body_fits(rsgi):  # type: ignore[union-attr]
                    started = None if observer is None else [state]
                    await self._continue_rsgi(rsgi, protocol, app, path_params, None, started)
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
                fixed = None
                if observer is not None:
                    fixed = len(outcome.raw_headers)
                    observer.finish(state, outcome)
                send_finalized(protocol, outcome, rsgi.method == "HEAD", app, fixed)
                return
        started = None if observer is None else [state]
        await self._continue_rsgi(rsgi, protocol, app, path_params, outcome, started)

    async def _serve_rsgi_stepped(
        self,
        rsgi: Any,
        protocol: Any,
        app: App,
        path_params: dict[str, Any] | None,
        started: list[Any] | None,
    ) -> None:
        """Serve a plain handler with request steps: `handle`'s path, minus what it can't need.

        The steps get a `Request` on a lazily completed scope; anything unusual (an error,
        a streamed response, background work) continues on `handle` with that request.
        """
        scope, receive, send = lazy_connection(rsgi, protocol, app)
        if path_params:
            scope["path_params"] = path_params
        request = Request(scope, receive, send, limits=self.limits)
        try:
            for step in self._before:
                await step(request)
            direct = self._direct
            if direct:
                values = await self.plan.extract(request)  # type: ignore[union-attr]
                result = await self.endpoint(**_arguments(direct, values))
            else:
                result = await self.endpoint()
            response = self.serialize(result, _NO_CONTEXT)
        except Exception as exc:  # noqa: BLE001 - answered by `handle`, steps included
            await self.handle(scope, receive, send, app, exc, request, started)
            return
        if response.background is not None or type(response).__call__ is not Response.__call__:
            await self.handle(scope, receive, send, app, response, request, started)
            return
        fixed: int | None = len(response.raw_headers)
        for after in self._after:
            try:
                await after(request, response)
            except Exception as exc:  # noqa: BLE001 - answered like a handler's error
                response, _ = await app.error_response(request, exc)
                fixed = None
        if started:
            self._observer.finish(started[0], response)
        send_finalized(protocol, response, rsgi.method == "HEAD", app, fixed)

    def _body_fits(self, rsgi: Any) -> bool:
        declared = rsgi.headers.get("content-length")
        if declared is None or not (declared.isascii() and declared.isdigit()):
            return False
        limit = self.limits.max_body_size
        return limit is None or int(declared) <= limit

    async def _continue_rsgi(  # noqa: PLR0913 - the connection and what it has seen
        self,
        rsgi: Any,
        protocol: Any,
        app: App,
        path_params: dict[str, Any] | None,
        outcome: Any,
        started: list[Any] | None = None,
    ) -> None:
        scope, receive, send = lazy_connection(rsgi, protocol, app)
        if path_params:
            scope["path_params"] = path_params
        await self.handle(scope, receive, send, app, outcome, None, started)

    async def handle(  # noqa: C901, PLR0913 - the hot path, kept in one frame
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        app: App,
        outcome: Any = None,
        request: Request | None = None,
        started: list[Any] | None = None,
    ) -> None:
        """Serve one request.

        `outcome` is what `serve_rsgi` already got from the handler (a response or
        the exception it raised); the handler and the `before` steps are then not run
        again, and `request` is the one they saw. `started` is what the observers'
        `start` returned, when they already saw the request.
        """
        if self._version != app.dependency_overrides.version:
            self.compile(app)
        observer = self._observer
        if observer is not None and started is None:
            started = [observer.start(_header_reader(scope))]
        direct = self._direct
        # A handler without parameters or steps never reads the request: built only on error.
        if request is None and (direct != () or self._before or self._after):
            request = Request(scope, receive, send, limits=self.limits)
        # A plain async handler with only request parameters needs no dependency context.
        ctx = _NO_CONTEXT if direct is not None else RequestContext(request, app.app_scope)
        error: Exception | None = None
        reraise = False
        try:
            if self._before and outcome is None:
                for step in self._before:
                    await step(request)
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
        fixed: int | None = None
        if self._after:
            before_steps = response
            fixed = len(response.raw_headers)
            response = await _run_after(self._after, request, response, app)  # type: ignore[arg-type]
            if response is not before_steps:
                fixed = None
        if started:
            seen = len(response.raw_headers)
            observer.finish(started[0], response)
            fixed = seen if fixed is None else fixed
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
                app.policy.finalize(response)
                failure = await _send_streamed(response, scope, receive, send, request, app)
                if failure is not None:
                    error, reraise = failure
            elif protocol is not None:
                # Adds the app's default headers itself (cached per header list).
                send_finalized(protocol, response, scope["method"] == "HEAD", app, fixed)
                if response.background is not None:
                    await response.background()
            else:
                await app.policy.finalize(response)(scope, receive, send)
        finally:
            if ctx.request_stack:
                leftover = await teardown(ctx.request_stack, error, ctx.limiter)
                if leftover is not None and leftover is not error:
                    app.log_teardown_error(leftover)
            if request is not None and request._form is not None:
                await request.close()
        if reraise and error is not None:
            raise error


async def _run_after(
    steps: tuple[Callable[[Request, Response], Awaitable[None]], ...],
    request: Request,
    response: Response,
    app: App,
) -> Response:
    """Run the `after` steps; an error in one becomes the response (and the rest still run)."""
    for step in steps:
        try:
            await step(request, response)
        except Exception as exc:  # noqa: BLE001 - answered like a handler's error
            response, _ = await app.error_response(request, exc)
    return response


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
        await app.policy.finalize(fallback)(scope, receive, send)
        return exc, reraise
    return None


async def _timed(coroutine: Any, seconds: float) -> Any:
    try:
        with anyio.fail_after(seconds):
            return await coroutine
    except TimeoutError:
        raise HTTPException(503, f"The request took longer than {seconds:g} seconds") from None


_NO_CONTEXT = RequestContext(None, AppScope())
CONNECTION_SPECIALS = frozenset({Special.REQUEST, Special.WEBSOCKET})
"""Handler specials that take the connection itself (`Request`, `WebSocket`)."""


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


def _one(observers: Sequence[Any]) -> Any:
    """Return the route's observer: `None`, the only one, or one that runs them all."""
    if not observers:
        return None
    if len(observers) == 1:
        return observers[0]
    return _Together(tuple(observers))


class _Together:
    """Several observers as one: started in order, finished in order."""

    __slots__ = ("observers",)

    def __init__(self, observers: tuple[Any, ...]) -> None:
        self.observers = observers

    def start(self, header: Callable[[str], str | None]) -> list[Any]:
        return [observer.start(header) for observer in self.observers]

    def finish(self, started: list[Any], response: Response) -> None:
        for observer, state in zip(self.observers, started, strict=True):
            observer.finish(state, response)


def _header_reader(scope: Scope) -> Callable[[str], str | None]:
    """Return a reader of one request header by lower-case name, for observers."""
    return functools.partial(scope_header, scope)


def _chain(first: Callable[[], Any], second: Callable[[], Any]) -> Callable[[], Any]:
    async def both() -> None:
        await first()
        await second()

    return both


def _check_path_params(path: str, names: Sequence[str], analysis: Any, handler: str) -> None:
    """Refuse a path parameter no parameter takes while a required query parameter exists.

    FastAPI reads `def f(id: int)` on `/items/{item_id}` as a query parameter `id`, so
    every request answers 422 for a value the URL does carry. Trivium's own `App` says so
    at start-up; `trivium.compat.fastapi` keeps FastAPI's reading. A path parameter left
    unused on purpose (a router prefix, say) with only optional query parameters passes.
    """
    from trivium.params._markers import ParamSource

    taken = {field.name for field in analysis.fields if field.source is ParamSource.PATH}
    unused = [name for name in names if name not in taken]
    queries = [
        field.python_name
        for field in analysis.fields
        if field.source is ParamSource.QUERY and field.required and not field.is_model
    ]
    if not unused or not queries:
        return
    raise ConfigurationError(
        f"handler {handler} takes no parameter for {{{unused[0]}}} in {path!r}, and its "
        f"required {queries[0]!r} would be read from the query string; rename "
        f"{queries[0]!r} to {unused[0]!r}, or write "
        f"{queries[0]}: Annotated[..., Path(alias={unused[0]!r})]",
        "path-param-unused",
    )
