"""Run the call steps of a compiled plan for one request, and tear them down afterwards.

Steps run in the order the analysis fixed at start-up. Generator dependencies are
advanced to their `yield`; their teardown is queued on the request (or function) scope
and runs later with the handler's exception, if any, thrown into the generator.
App-scoped dependencies are created once per application and torn down at shutdown.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncGenerator
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING
from typing import Any

import anyio
import anyio.to_thread

from trivium.params._analysis import ARG_SPECIAL
from trivium.params._analysis import ARG_STEP
from trivium.params._analysis import ARG_VALUE
from trivium.params._analysis import CALL_ASYNC
from trivium.params._analysis import CALL_ASYNC_GEN
from trivium.params._analysis import CALL_ITER
from trivium.params._analysis import CALL_SYNC
from trivium.params._analysis import CALL_SYNC_GEN
from trivium.params._analysis import Special
from trivium.params._analysis import Step

if TYPE_CHECKING:
    from trivium.background import BackgroundTasks
    from trivium.http._request import HTTPConnection
    from trivium.http._response import Response

__all__ = [
    "ABANDON_THREADS",
    "AppScope",
    "RequestContext",
    "run_steps",
    "run_valid_steps",
    "teardown",
]

ABANDON_THREADS: ContextVar[bool] = ContextVar("trivium_abandon_threads", default=False)
"""Set under a request deadline: a sync call still running when it passes is left to finish
in its thread while the request answers (a thread can't be stopped)."""

logger = logging.getLogger("trivium.error")

Teardown = tuple[Any, bool]  # (generator, is_async)


class AppScope:
    """App-scoped dependency values: created once, torn down when the app shuts down.

    It also holds the app's thread-pool limiter. The limiter is created on first use
    (the first sync handler or dependency), because creating one loads anyio's asyncio
    backend, over a megabyte that an all-async worker never needs.
    """

    def __init__(self) -> None:
        self.values: dict[Any, Any] = {}
        self.stack: list[Teardown] = []
        self._lock: anyio.Lock | None = None
        self._limiter: anyio.CapacityLimiter | None = None
        self.limiter_size: int | None = None
        """Tokens of the limiter; `None` (outside a running app) means anyio's default."""

    @property
    def limiter(self) -> anyio.CapacityLimiter | None:
        """The limiter of sync calls, created on first use while the app runs."""
        if self._limiter is None and self.limiter_size is not None:
            self._limiter = anyio.CapacityLimiter(self.limiter_size)
        return self._limiter

    def start(self, limiter_size: int) -> None:
        """Prepare a fresh limiter of `limiter_size` tokens for a new serving run."""
        self._limiter = None
        self.limiter_size = limiter_size

    async def get(self, step: Step, kwargs: dict[str, Any], ctx: RequestContext) -> Any:
        """Return the app-wide value of `step`, creating it on first use."""
        try:
            return self.values[step.cache_key]
        except KeyError:
            pass
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if step.cache_key not in self.values:
                self.values[step.cache_key] = await _call(step, kwargs, ctx, self.stack)
        return self.values[step.cache_key]

    async def close(self) -> BaseException | None:
        """Tear down every app-scoped value, newest first; return a teardown's error, if any."""
        stack, self.stack = self.stack, []
        self.values.clear()
        return await teardown(stack, None, self.limiter)


class RequestContext:
    """Per-request state of dependency resolution."""

    __slots__ = (
        "_background",
        "_response",
        "app_scope",
        "connection",
        "function_stack",
        "request_stack",
    )

    def __init__(self, connection: HTTPConnection | None, app_scope: AppScope) -> None:
        self.connection = connection
        self.app_scope = app_scope
        self.function_stack: list[Teardown] = []
        self.request_stack: list[Teardown] = []
        self._response: Response | None = None
        self._background: BackgroundTasks | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter | None:
        """The app's limiter of sync calls (see `AppScope.limiter`)."""
        return self.app_scope.limiter

    @property
    def response(self) -> Response | None:
        """The injected response whose status, headers and cookies the handler may set."""
        return self._response

    @property
    def background(self) -> BackgroundTasks | None:
        """The injected background tasks, if any were asked for."""
        return self._background

    def special(self, kind: str) -> Any:
        """Return the injected value of a `Special` kind."""
        if kind == Special.RESPONSE:
            if self._response is None:
                from trivium.http._response import Response

                self._response = Response.__new__(Response)
                self._response.status_code = None  # type: ignore[assignment]
                self._response.body = b""
                self._response.raw_headers = []
                self._response.background = None
                self._response._headers = None
            return self._response
        if kind == Special.BACKGROUND:
            if self._background is None:
                from trivium.background import BackgroundTasks

                self._background = BackgroundTasks()
            return self._background
        if self.connection is None:
            raise RuntimeError(f"no {kind} is available outside a request")
        return self.connection


async def run_steps(steps: Sequence[Step], values: dict[str, Any], ctx: RequestContext) -> Any:
    """Call every step in order and return the last one's result (the handler's)."""
    results: list[Any] = []
    for step in steps:
        kwargs: dict[str, Any] = {}
        for name, source, key in step.args:
            if source == ARG_VALUE:
                section, field = key
                kwargs[name] = values[section][field] if field else values[section]
            elif source == ARG_STEP:
                kwargs[name] = results[key]
            elif source == ARG_SPECIAL:
                kwargs[name] = ctx.special(key)
            else:
                kwargs[name] = key  # ARG_CONST: fixed at start-up
        if step.scope == "app":
            results.append(await ctx.app_scope.get(step, kwargs, ctx))
        else:
            stack = ctx.function_stack if step.scope == "function" else ctx.request_stack
            results.append(await _call(step, kwargs, ctx, stack))
    return results[-1]


async def run_valid_steps(
    steps: Sequence[Step],
    values: dict[str, Any],
    invalid: set[tuple[str, str | None]],
    ctx: RequestContext,
) -> None:
    """Call the dependencies (not the handler) whose parameters are all valid, in order.

    The failure path of a request with invalid parameters, as FastAPI solves it: a
    dependency runs when none of its own or its sub-dependencies' parameters is among
    `invalid`, so that its exception (an authentication dependency's 401) is answered
    instead of the 422 the caller raises afterwards.
    """
    sections = {section for section, _ in invalid}
    results: dict[int, Any] = {}
    for index, step in enumerate(steps[:-1]):
        kwargs: dict[str, Any] = {}
        for name, source, key in step.args:
            if source == ARG_VALUE:
                section, field = key
                if (section, field) in invalid or (section, None) in invalid:
                    break
                if not field:
                    if section in sections or section not in values:
                        break
                    kwargs[name] = values[section]
                elif field in values.get(section, ()):
                    kwargs[name] = values[section][field]
                else:
                    break
            elif source == ARG_STEP:
                if key not in results:
                    break
                kwargs[name] = results[key]
            elif source == ARG_SPECIAL:
                kwargs[name] = ctx.special(key)
            else:
                kwargs[name] = key
        else:
            if step.scope == "app":
                results[index] = await ctx.app_scope.get(step, kwargs, ctx)
            else:
                stack = ctx.function_stack if step.scope == "function" else ctx.request_stack
                results[index] = await _call(step, kwargs, ctx, stack)


async def _call(
    step: Step, kwargs: dict[str, Any], ctx: RequestContext, stack: list[Teardown]
) -> Any:
    kind = step.kind
    if kind == CALL_ASYNC:
        return await step.call(**kwargs)
    if kind == CALL_SYNC:
        return await anyio.to_thread.run_sync(
            functools.partial(step.call, **kwargs),
            limiter=ctx.limiter,
            abandon_on_cancel=ABANDON_THREADS.get(),
        )
    if kind == CALL_ASYNC_GEN:
        agen: AsyncGenerator[Any, None] = step.call(**kwargs)
        value = await agen.__anext__()
        stack.append((agen, True))
        return value
    if kind == CALL_SYNC_GEN:
        gen: Generator[Any, None, None] = step.call(**kwargs)
        value = await anyio.to_thread.run_sync(next, gen, limiter=ctx.limiter)
        stack.append((gen, False))
        return value
    if kind == CALL_ITER:
        return step.call(**kwargs)  # a generator handler's generator, advanced while sent
    raise RuntimeError(f"unknown step kind {kind}")  # pragma: no cover


async def teardown(
    stack: list[Teardown],
    exc: BaseException | None,
    limiter: anyio.CapacityLimiter | None,
) -> BaseException | None:
    """Finish generator dependencies newest first, throwing `exc` into each.

    Returns the exception the teardown ended with: `exc` itself, a new one raised by a
    teardown, or `None` when a generator handled it.
    """
    while stack:
        gen, is_async = stack.pop()
        try:
            if is_async:
                await _finish_async(gen, exc)
            else:
                await anyio.to_thread.run_sync(_finish_sync, gen, exc, limiter=limiter)
        except BaseException as error:  # noqa: BLE001 - passed on to outer generators
            if error is not exc:
                exc = error
        else:
            exc = None
    return exc


async def _finish_async(agen: AsyncGenerator[Any, None], exc: BaseException | None) -> None:
    try:
        if exc is None:
            await agen.__anext__()
        else:
            await agen.athrow(exc)
    except StopAsyncIteration:
        return
    await agen.aclose()
    raise RuntimeError(f"dependency {agen!r} yielded more than once")


def _finish_sync(gen: Generator[Any, None, None], exc: BaseException | None) -> None:
    try:
        if exc is None:
            next(gen)
        else:
            gen.throw(exc)
    except StopIteration:
        return
    gen.close()
    raise RuntimeError(f"dependency {gen!r} yielded more than once")


@contextlib.asynccontextmanager
async def resolving(
    steps: Sequence[Step],
    ctx: RequestContext,
    values: dict[str, Any],
) -> AsyncGenerator[Any, None]:
    """Resolve `steps` outside a request, tearing everything down on exit."""
    error: BaseException | None = None
    try:
        yield await run_steps(steps, values, ctx)
    except BaseException as exc:
        error = exc
        raise
    finally:
        await teardown(ctx.function_stack, error, ctx.limiter)
        leftover = await teardown(ctx.request_stack, error, ctx.limiter)
        if leftover is not None and leftover is not error:
            raise leftover


def describe(call: Callable[..., Any]) -> str:
    """Name a callable for messages."""
    return getattr(call, "__qualname__", repr(call))
