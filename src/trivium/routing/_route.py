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
from typing import Generic
from typing import TypeVar

from trivium.di._depends import Depends
from trivium.di._solver import RequestContext
from trivium.di._solver import teardown
from trivium.errors import ConfigurationError
from trivium.http._limits import Limits
from trivium.http._limits import with_form_limits
from trivium.http._request import DEFAULT_LIMITS
from trivium.http._request import Request
from trivium.http._request import scope_header
from trivium.http._response import Response
from trivium.params._analysis import Special
from trivium.plugins._plugin import Gate
from trivium.plugins._plugin import RouteNeeds
from trivium.routing._endpoint import NO_CONTEXT
from trivium.routing._endpoint import Endpoint
from trivium.routing._endpoint import WebSocketEndpoint
from trivium.routing._endpoint import choose_call
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


AnyEndpoint = TypeVar("AnyEndpoint", Endpoint, WebSocketEndpoint)


class CompiledRoute(BaseRoute, Generic[AnyEndpoint]):
    """A route served through what `compile()` made of it (`_endpoint`, `None` before)."""

    __slots__ = ("_endpoint",)

    _endpoint: AnyEndpoint | None

    def compile(self, app: App) -> AnyEndpoint:
        """Build the route's endpoint for `app` and serve with it from now on (start-up)."""
        raise NotImplementedError

    @property
    def compiled(self) -> AnyEndpoint | None:
        """What `compile()` made of the route (`None` before the app is built)."""
        return self._endpoint

    def current(self, app: App) -> AnyEndpoint:
        """The endpoint to serve `app`'s request with (compiled again after an override change)."""
        endpoint = self._endpoint
        if endpoint is None or endpoint.version != app.dependency_overrides.version:
            return self.compile(app)
        return endpoint

    @property
    def plan(self) -> Plan | None:
        """The compiled extraction plan."""
        return None if self._endpoint is None else self._endpoint.plan

    @property
    def steps(self) -> list[Any]:
        """The compiled dependency graph's call steps."""
        return [] if self._endpoint is None else self._endpoint.steps

    @property
    def analysis(self) -> Analysis | None:
        """The compiled parameter analysis (fields and steps)."""
        return None if self._endpoint is None else self._endpoint.analysis


class Route(CompiledRoute[Endpoint]):
    """An HTTP route: a path, methods and a handler."""

    __slots__ = ("endpoint", "methods", "options")

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str],
        options: RouteOptions,
    ) -> None:
        super().__init__(path, options.get("name") or getattr(endpoint, "__name__", None))
        self.endpoint = endpoint
        """The handler (FastAPI's name for it)."""
        self.methods = tuple(dict.fromkeys(m.upper() for m in methods))
        self.options = options
        self._endpoint: Endpoint | None = None

    @property
    def request_steps(self) -> tuple[Any, ...]:
        """The plugins' request steps compiled into the route."""
        return () if self._endpoint is None else self._endpoint.request_steps

    @property
    def limits(self) -> Limits:
        """The route's limits (the app's, unless the route sets its own)."""
        return DEFAULT_LIMITS if self._endpoint is None else self._endpoint.limits

    @property
    def response_model(self) -> Any:
        """The type that filters the output (option or return annotation), once compiled."""
        return None if self._endpoint is None else self._endpoint.response_model

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

    def compile(self, app: App) -> Endpoint:
        """Build the route's `Endpoint` for `app` and serve with it from now on (start-up)."""
        from trivium.params._analysis import analyse
        from trivium.params._plan import Plan
        from trivium.routing._serialize import make_serializer
        from trivium.routing._serialize import model_from_annotation

        handler = self.endpoint
        name = getattr(handler, "__qualname__", self.path)
        analysis = analyse(
            handler,
            path_names=set(self.template.names),
            dependencies=(
                *(app.app_dependencies if self.options.get("app_dependencies", True) else ()),
                *self.dependencies,
            ),
            overrides=app.effective_overrides(),
        )
        plan = Plan(
            analysis,
            name.replace(".", "_").replace("<", "").replace(">", ""),
            strict_content_type=app.http_config.strict_content_type,
            json_errors_as_validation=app.http_config.json_errors_as_validation,
            label=name,
        )
        takes_connection = bool(analysis.specials & CONNECTION_SPECIALS)
        if app.http_config.strict_path_params and not takes_connection:
            _check_path_params(self.path, self.template.names, analysis, name)
        needs = RouteNeeds(
            self.path,
            self.methods,
            handler,
            takes_connection=takes_connection,
            options=self.plugin_options,
            dependencies=analysis.dependency_calls,
        )
        request_steps = tuple(app.request_steps(needs))
        before = tuple(step.before for step in request_steps if step.runs_before())
        after = tuple(step.after for step in reversed(request_steps) if step.runs_after())
        options = self.options
        model = options.get("response_model", UNSET)
        if model is UNSET:
            model = model_from_annotation(handler)
        limits = options.get("limits") or app.http_config.limits
        if "max_body_size" in options:
            limits = dataclasses.replace(limits, max_body_size=options["max_body_size"])
        limits = with_form_limits(limits, options.get("form_limits"))
        call, plain = choose_call(handler, analysis, plan, limits.timeout)
        self._endpoint = endpoint = Endpoint(
            after=after,
            analysis=analysis,
            before=before,
            call=call,
            gated=bool(request_steps)
            and not analysis.specials
            and all(isinstance(step, Gate) for step in request_steps),
            handler=handler,
            limits=limits,
            needs_connection=bool(before or after) or Special.REQUEST in analysis.specials,
            needs_request=not plain
            or bool(analysis.fields or before or after or analysis.specials),
            observer=_one(app.observers(needs)),
            plain=plain,
            plan=plan,
            request_steps=request_steps,
            response_model=model,
            serialize=make_serializer(
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
                endpoint=handler,
            ),
            shortcut=plain and plan.body_mode != "form" and type(self).handle is Route.handle,
            steps=analysis.steps,
            version=app.dependency_overrides.version,
        )
        return endpoint

    async def handle(  # noqa: PLR0913 - the connection and what a protocol's fast path saw
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        app: App,
        outcome: Any = None,
        request: Request | None = None,
        started: list[Any] | None = None,
    ) -> None:
        """Serve one request: steps, handler, serializer, then the answer.

        `outcome` is what a protocol's fast path already got from the handler (a
        response or the exception it raised); the handler and the `before` steps are
        then not run again, and `request` is the one they saw. `started` is what the
        observers' `start` returned, when they already saw the request.
        """
        endpoint = self.current(app)
        observer = endpoint.observer
        if observer is not None and started is None:
            started = [observer.start(_header_reader(scope))]
        # A handler without parameters or steps never reads the request: built only on error.
        if request is None and endpoint.needs_request:
            request = Request(scope, receive, send, limits=endpoint.limits)
        ctx = NO_CONTEXT if endpoint.plain else RequestContext(request, app.app_scope)
        error: Exception | None = None
        reraise = False
        try:
            response = await _run(endpoint, request, ctx, outcome)
        except Exception as exc:  # noqa: BLE001 - every error becomes a response
            error = await _translated(exc, ctx)
            if request is None:
                request = Request(scope, receive, send, limits=endpoint.limits)
            response, reraise = await app.error_response(request, error)
        fixed: int | None = None
        late: Exception | None = None  # an unexpected error of an `after` step
        if endpoint.after or started:
            response, fixed, late = await _finishing(endpoint, response, request, started, app)
        if ctx.background is not None and error is None and late is None:
            # As in FastAPI: the tasks are the handler's effects, dropped with its answer.
            _attach_background(response, ctx.background)
        try:
            if reraise and app.policy.errors_reach_middleware:
                # As in Starlette: the user's middleware sees the unexpected error
                # (`call_next` raises it) and the edge answers it if none does.
                raise error  # type: ignore[misc]
            failure = await _send(response, scope, receive, send, request, app, fixed, endpoint)
            if failure is not None:
                error, reraise = failure
        except Exception as exc:
            # A background task (or the send) failed after the answer: the request-scoped
            # dependencies see it, as in FastAPI (a `get_db` rolls back), then the server.
            error = exc
            raise
        finally:
            if ctx.request_stack or (request is not None and request._form is not None):
                await _close(ctx, request, error, app)
        # An unexpected error, answered with a 500 already, is raised for the server's log.
        escaping = error if reraise else late
        if escaping is not None:
            raise escaping


async def _close(
    ctx: RequestContext, request: Request | None, error: Exception | None, app: App
) -> None:
    """Finish the request-scoped dependencies (after the answer) and the form's files."""
    if ctx.request_stack:
        leftover = await teardown(ctx.request_stack, error, ctx.limiter)
        if leftover is not None and leftover is not error:
            app.log_teardown_error(leftover)
    if request is not None and request._form is not None:
        await request.close()


async def _run(
    endpoint: Endpoint, request: Request | None, ctx: RequestContext, outcome: Any
) -> Response:
    """Run the `before` steps and the handler (unless `outcome` says how that went); serialize."""
    if outcome is None:
        for step in endpoint.before:
            waiting = step(request)  # a plain-function hook answers None when done
            if waiting is not None:
                await waiting
        result = await endpoint.call(request, ctx)
    elif isinstance(outcome, Exception):
        raise outcome
    else:
        result = outcome
    if ctx.function_stack:
        leftover = await teardown(ctx.function_stack, None, ctx.limiter)
        if leftover is not None:
            raise leftover
    response: Response = endpoint.serialize(result, ctx)
    return response


async def _translated(error: Exception, ctx: RequestContext) -> Exception:
    """The handler's error, as the dependencies' teardown may have translated it.

    On an error every generator dependency is finished before the answer, whatever its
    scope, as in FastAPI: the error is thrown in at its `yield` and what comes out (an
    `HTTPException` made of a `KeyError`, say) is what the client gets.
    """
    for stack in (ctx.function_stack, ctx.request_stack):
        if stack:
            replaced = await teardown(stack, error, ctx.limiter)
            if isinstance(replaced, Exception):
                error = replaced
    return error


async def _finishing(
    endpoint: Endpoint,
    response: Response,
    request: Request | None,
    started: list[Any] | None,
    app: App,
) -> tuple[Response, int | None, Exception | None]:
    """Run the `after` steps and finish the observers; say how many header pairs are fixed.

    The pairs present before the steps ran are the same from request to request (a
    protocol may cache their encoding); what the steps add is not. The third value is an
    unexpected error of a step, answered with a 500, for the caller to re-raise once the
    response is sent.
    """
    fixed: int | None = None
    late = None
    if endpoint.after:
        fixed = len(response.raw_headers)
        finished, late = await _run_after(endpoint.after, request, response, app)  # type: ignore[arg-type]
        if finished is not response:
            fixed = None
        response = finished
    if started:
        seen = len(response.raw_headers)
        endpoint.observer.finish(started[0], response)
        fixed = seen if fixed is None else fixed
    return response, fixed, late


async def _send(  # noqa: PLR0913 - the connection plus what the error path needs
    response: Response,
    scope: Scope,
    receive: Receive,
    send: Send,
    request: Request | None,
    app: App,
    fixed: int | None,
    endpoint: Endpoint,
) -> tuple[Exception, bool] | None:
    """Send `response` the best way the connection offers; then its background work.

    A rendered response goes out in one call when the send channel can write one
    (`respond`, which adds the app's default headers itself); otherwise as ASGI
    messages. Streaming and file responses always stream (an error before their first
    byte becomes the error response: returned, as `error_response` said it).
    """
    if type(response).__call__ is not Response.__call__:
        if request is None:
            request = Request(scope, receive, send, limits=endpoint.limits)
        app.policy.finalize(response)
        return await _send_streamed(response, scope, receive, send, request, app)
    respond = getattr(send, "respond", None)
    if respond is not None:
        respond(response, app, fixed)
        if response.background is not None:
            await response.background()
    else:
        await app.policy.finalize(response)(scope, receive, send)
    return None


async def _run_after(
    steps: tuple[Callable[[Request, Response], Awaitable[None] | None], ...],
    request: Request,
    response: Response,
    app: App,
) -> tuple[Response, Exception | None]:
    """Run the `after` steps; an error in one becomes the response (and the rest still run).

    Also returns the last unexpected error (a 500), which the caller re-raises after
    sending so that the server logs it, as for a handler's error.
    """
    late = None
    for step in steps:
        try:
            waiting = step(request, response)
            if waiting is not None:
                await waiting
        except Exception as exc:  # noqa: BLE001 - answered like a handler's error
            response, reraise = await app.error_response(request, exc)
            if reraise:
                late = exc
    return response, late


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


CONNECTION_SPECIALS = frozenset({Special.REQUEST, Special.WEBSOCKET})
"""Handler specials that take the connection itself (`Request`, `WebSocket`)."""


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


def _attach_background(response: Response, background: Any) -> None:
    """Give the response the background tasks the dependencies added (after its own)."""
    if not background.tasks or response.background is background:
        return  # nothing added, or the handler gave the response the same object
    if response.background is None:
        response.background = background
    else:
        response.background = _chain(response.background, background)


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
