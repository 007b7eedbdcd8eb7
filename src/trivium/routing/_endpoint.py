"""`Endpoint`: what `Route.compile` makes of a route, fixed for as long as it serves.

An endpoint holds everything serving a request needs (the extraction plan, the request
steps, the serializer, the limits) and `call`, the way to run the handler, chosen once
from the handler's shape:

- a handler without parameters is called as it is;
- a plain `async def` whose parameters are all request values (path, query, headers,
  cookies, body), and maybe the `Request` itself, gets them as keyword arguments,
  without a dependency context (a protocol then builds the `Request` for it);
- anything else (dependencies, sync handlers, the response or background tasks) runs
  its dependency graph in a `RequestContext`;
- with a `timeout` limit, the same under a deadline (503 when it passes).

Endpoints are immutable: a route that must change (dependency overrides were edited)
compiles a new one and swaps it in whole, so a request never sees half of each.
Nothing here knows which protocol carries the request: `source` is whatever the plan
reads parameters from (a `Request`, or a protocol's own view of the request).
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

import anyio

from trivium.di._solver import ABANDON_THREADS
from trivium.di._solver import AppScope
from trivium.di._solver import RequestContext
from trivium.di._solver import run_steps
from trivium.di._solver import run_valid_steps
from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.params._analysis import ARG_SPECIAL
from trivium.params._analysis import ARG_VALUE
from trivium.params._analysis import CALL_ASYNC
from trivium.params._analysis import Special

if TYPE_CHECKING:
    from trivium.http._limits import Limits
    from trivium.params._analysis import Analysis
    from trivium.params._plan import Plan

__all__ = ["NO_CONTEXT", "Call", "Endpoint", "WebSocketEndpoint", "choose_call", "settled"]

Call = Callable[[Any, RequestContext], Awaitable[Any]]
"""How an endpoint runs its handler: `await call(source, ctx)` returns the handler's result."""

NO_CONTEXT = RequestContext(None, AppScope())
"""The context of handlers that need none (plain ones): never written to."""


class _Frozen:
    """Slots set once, by keyword, in `__init__`; never again."""

    __slots__ = ()

    def __init__(self, **fields: Any) -> None:
        slots: tuple[str, ...] = type(self).__slots__
        missing = set(slots) - set(fields)
        unknown = set(fields) - set(slots)
        if missing or unknown:
            name = type(self).__name__
            raise TypeError(f"{name} fields missing {sorted(missing)}, unknown {sorted(unknown)}")
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"a {type(self).__name__} is immutable; compile the route again to change {name}"
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a {type(self).__name__} is immutable; cannot delete {name}")


class Endpoint(_Frozen):
    """A compiled route: read-only, built once per route (and per dependency-override change)."""

    __slots__ = (
        "after",
        "analysis",
        "before",
        "call",
        "gated",
        "handler",
        "limits",
        "needs_connection",
        "needs_request",
        "observer",
        "plain",
        "plan",
        "request_steps",
        "response_model",
        "serialize",
        "shortcut",
        "steps",
        "version",
    )

    after: tuple[Callable[[Any, Any], Awaitable[None] | None], ...]
    """The request steps' `after` hooks, innermost first."""
    analysis: Analysis
    """The handler's parameters and dependency graph."""
    before: tuple[Callable[[Any], Awaitable[None] | None], ...]
    """The request steps' `before` hooks, outermost first."""
    call: Call
    """Runs the handler (see the module's docstring for the strategies)."""
    gated: bool
    """Whether every request step is a `Gate` and the handler takes no connection: a
    protocol may then give the steps an `HTTPConnection` and the handler only its
    parameters, without a `Request`."""
    handler: Callable[..., Any]
    """The user's function."""
    limits: Limits
    """The body, form and time limits of this route."""
    needs_connection: bool
    """Whether `call` and the steps are given the `Request` itself (the route has request
    steps, or the handler takes the request): a protocol must build one for them."""
    needs_request: bool
    """Whether serving builds a `Request` even when all goes well (parameters or steps)."""
    observer: Any
    """The route's observer (`start`/`finish`), or `None`."""
    plain: bool
    """Whether `call` needs no `RequestContext` (no dependencies, no teardown, no timeout)."""
    plan: Plan
    """Extracts and validates the request's parameters."""
    request_steps: tuple[Any, ...]
    """The plugins' request steps compiled into the route."""
    response_model: Any
    """The type that filters the output (option or return annotation)."""
    serialize: Callable[[Any, RequestContext], Any]
    """Turns the handler's result into a `Response`."""
    shortcut: bool
    """Whether a protocol may serve it without `Route.handle`: the handler is plain, no
    parameter reads a form (which needs a `Request`) and the route's class does not
    override `handle`. Anything unusual still continues on `handle`."""
    steps: list[Any]
    """The dependency graph's call steps."""
    version: int
    """The dependency overrides' version this endpoint was compiled against."""

    def __repr__(self) -> str:
        name = getattr(self.handler, "__qualname__", repr(self.handler))
        return f"<Endpoint {name} plain={self.plain} steps={len(self.request_steps)}>"


class WebSocketEndpoint(_Frozen):
    """A compiled websocket route: read-only, like `Endpoint`.

    A websocket handler always runs its dependency graph (it takes the `WebSocket`), so
    there is no strategy to choose.
    """

    __slots__ = ("after", "analysis", "before", "plan", "request_steps", "steps", "version")

    after: tuple[Callable[[Any, None], Awaitable[None] | None], ...]
    """The request steps' `after` hooks, innermost first."""
    analysis: Analysis
    """The handler's parameters and dependency graph."""
    before: tuple[Callable[[Any], Awaitable[None] | None], ...]
    """The request steps' `before` hooks, outermost first."""
    plan: Plan
    """Extracts and validates the connection's parameters."""
    request_steps: tuple[Any, ...]
    """The plugins' request steps compiled into the route."""
    steps: list[Any]
    """The dependency graph's call steps."""
    version: int
    """The dependency overrides' version this endpoint was compiled against."""


def choose_call(
    handler: Callable[..., Any], analysis: Analysis, plan: Plan, timeout: float | None
) -> tuple[Call, bool]:
    """Return the handler's call strategy and whether it is plain (needs no context)."""
    direct = None if timeout is not None else _direct_arguments(analysis)
    extract = plan.extract
    if direct is not None:
        values, request_name = direct
        if request_name is not None:
            if not values and not analysis.fields:
                return _request_only(handler, request_name), True
            return _with_request(handler, extract, values, request_name), True
        if values == ():
            return _no_arguments(handler), True
        return _with_arguments(handler, extract, values), True
    steps = analysis.steps

    async def with_dependencies(source: Any, ctx: RequestContext) -> Any:
        try:
            values = await extract(source)
        except RequestValidationError as error:
            if len(steps) > 1:  # the valid dependencies answer first (FastAPI's order)
                await run_valid_steps(steps, *plan.valid_values(source, error), ctx)
            raise
        return await run_steps(steps, values, ctx)

    if timeout is None:
        return with_dependencies, False

    async def with_deadline(source: Any, ctx: RequestContext) -> Any:
        abandon = ABANDON_THREADS.set(True)  # a `def` handler is not waited for past it
        try:
            with anyio.fail_after(timeout):
                return await with_dependencies(source, ctx)
        except TimeoutError:
            raise HTTPException(503, f"The request took longer than {timeout:g} seconds") from None
        finally:
            ABANDON_THREADS.reset(abandon)

    return with_deadline, False


def _no_arguments(handler: Callable[..., Any]) -> Call:
    def call(source: Any, ctx: RequestContext) -> Awaitable[Any]:
        # No coroutine of its own: the handler's is awaited by the caller.
        return handler()  # type: ignore[no-any-return]

    return call


def _with_arguments(
    handler: Callable[..., Any],
    extract: Callable[[Any], Awaitable[dict[str, Any]]],
    direct: tuple[tuple[str, str, str], ...],
) -> Call:
    async def call(source: Any, ctx: RequestContext) -> Any:
        values = await extract(source)
        return await handler(
            **{
                name: values[section][field] if field else values[section]
                for name, section, field in direct
            }
        )

    return call


def _direct_arguments(
    analysis: Analysis,
) -> tuple[tuple[tuple[str, str, str], ...], str | None] | None:
    """The handler's request values and its `Request` argument, when it can be awaited directly.

    That is a plain `async def` whose every parameter is a request value or the request
    itself; `None` for any other handler. The values are (argument, section, field)
    triples; the request's argument name is `None` when the handler does not take it.
    """
    if len(analysis.steps) != 1 or not analysis.specials <= {Special.REQUEST}:
        return None
    step = analysis.steps[0]
    if step.kind != CALL_ASYNC:
        return None
    values: list[tuple[str, str, str]] = []
    request_name = None
    for name, source, key in step.args:
        if source == ARG_VALUE:
            values.append((name, key[0], key[1]))
        elif source == ARG_SPECIAL and key == Special.REQUEST and request_name is None:
            request_name = name
        else:
            return None
    return tuple(values), request_name


def _request_only(handler: Callable[..., Any], request_name: str) -> Call:
    def call(source: Any, ctx: RequestContext) -> Awaitable[Any]:
        # `source` is the `Request` (the endpoint needs the connection).
        return handler(**{request_name: source})  # type: ignore[no-any-return]

    return call


def _with_request(
    handler: Callable[..., Any],
    extract: Callable[[Any], Awaitable[dict[str, Any]]],
    direct: tuple[tuple[str, str, str], ...],
    request_name: str,
) -> Call:
    async def call(source: Any, ctx: RequestContext) -> Any:
        values = await extract(source)
        arguments = {
            name: values[section][field] if field else values[section]
            for name, section, field in direct
        }
        arguments[request_name] = source  # the `Request` (the endpoint needs the connection)
        return await handler(**arguments)

    return call


async def settled(outcome: Awaitable[None] | None) -> None:
    """Finish a request step's hook: await what it returned unless it was done (`None`).

    Hooks may be plain functions (see `RequestStep`); the hot paths inline this.
    """
    if outcome is not None:
        await outcome
