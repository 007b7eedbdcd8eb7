"""`Task`: a function registered with `@tasks.task`, and the handles of its runs.

A task's parameters are of two kinds. Those declared with `Depends(...)` (as a default
or in `Annotated[...]`) are injected when the task runs, from the same dependency graph
as the app's handlers (`app.dependency_overrides` included). The others are the task's
arguments: given at enqueue time, checked against the signature at once, sent as JSON
and validated with pydantic against their annotations in the worker (so a `datetime`
or a pydantic model arrives as one).
"""

from __future__ import annotations

import datetime
import functools
import inspect
import math
import numbers
import threading
import typing
from collections.abc import Callable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any
from typing import Generic
from typing import ParamSpec
from typing import TypeVar
from typing import get_args
from typing import get_origin

import anyio
import anyio.to_thread
import orjson
from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from trivium.di import Depends
from trivium.errors import ConfigurationError
from trivium.tasks._retry import Retry
from trivium.tasks._transport import MAX_PRIORITY

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.tasks._state import TaskInfo
    from trivium.tasks._tasks import Tasks

__all__ = ["Task", "TaskCall", "TaskRun", "check_priority", "non_finite", "threads_running"]

P = ParamSpec("P")
R = TypeVar("R")


def check_priority(priority: object) -> int:
    """Return `priority` if it is an integer from 0 to `MAX_PRIORITY` (9).

    Raises:
        ValueError: it is not.
    """
    if (
        isinstance(priority, bool)
        or not isinstance(priority, int)
        or not 0 <= priority <= MAX_PRIORITY
    ):
        raise ValueError(
            f"priority={priority!r}: give an integer from 0 (the default, lowest) "
            f"to {MAX_PRIORITY} (highest)"
        )
    return priority


_threads = [0]  # sync task calls whose thread has not returned, abandoned ones too
_threads_lock = threading.Lock()


def _in_thread(func: Callable[..., Any], values: dict[str, Any]) -> Any:
    try:
        return func(**values)
    finally:
        with _threads_lock:
            _threads[0] -= 1


def threads_running() -> int:
    """Return how many sync task calls still run in threads (abandoned ones included)."""
    return _threads[0]


def non_finite(value: Any) -> bool:
    """Return whether JSON-like `value` holds a NaN or an infinity (JSON writes `null`)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(non_finite(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(non_finite(item) for item in value)
    return False


def _eta(countdown: object, at: object) -> float | None:
    """Return the Unix time `countdown=` or `at=` name (`None`: now), after checking them.

    Raises:
        TypeError: both, or one of the wrong kind.
        ValueError: a NaN or infinite countdown (it would run at once, or never).
    """
    if countdown is not None and at is not None:
        raise TypeError("give countdown= or at=, not both")
    if countdown is not None:
        if isinstance(countdown, datetime.timedelta):
            seconds = countdown.total_seconds()
        elif not isinstance(countdown, bool) and isinstance(countdown, numbers.Real):
            try:
                seconds = float(countdown)
            except OverflowError:
                seconds = math.inf
        else:
            raise TypeError(
                f"countdown={countdown!r}: give a number of seconds or a timedelta, not "
                f"{type(countdown).__name__}"
            )
        if not math.isfinite(seconds):
            raise ValueError(f"countdown={countdown!r}: give a finite number of seconds")
        return datetime.datetime.now(datetime.UTC).timestamp() + seconds
    if at is None:
        return None
    if not isinstance(at, datetime.datetime):
        raise TypeError(
            f"at={at!r}: give an aware datetime (datetime(2027, 1, 1, tzinfo=UTC)), not "
            f"{type(at).__name__}"
        )
    if at.utcoffset() is None:
        raise TypeError("at= must be an aware datetime (datetime.now(UTC) + ...)")
    return at.timestamp()


def _is_dependency(param: inspect.Parameter, hint: Any) -> bool:
    if isinstance(param.default, Depends):
        return True
    return get_origin(hint) is Annotated and any(
        isinstance(meta, Depends) for meta in get_args(hint)[1:]
    )


class Task(Generic[P, R]):
    """A function that runs in a worker: `await task.enqueue(...)` sends a run of it.

    Calling the task object itself (`task(...)`) calls the function directly, without
    injection or a worker (handy in unit tests).
    """

    def __init__(  # noqa: PLR0913 - the options of `Tasks.task`, all keyword-only
        self,
        tasks: Tasks,
        func: Callable[P, Any],
        *,
        name: str | None,
        queue: str,
        retry: Retry,
        timeout: float | None,
        keep_result: bool,
        redact: tuple[str, ...] = (),
        priority: int = 0,
    ) -> None:
        self.tasks = tasks
        self.func = func
        self.name = name or f"{func.__module__}.{func.__qualname__}"
        """The name workers know the task by (stable across deploys: keep it when renaming)."""
        self.queue = queue
        """The queue its runs go to unless `options(queue=...)` says otherwise."""
        try:
            check_priority(priority)
        except ValueError as exc:
            raise ConfigurationError(f"task {self.name}: {exc}", "tasks-priority") from None
        self.priority = priority
        """Its runs' priority (0-9, higher first) unless `options(priority=...)` says otherwise."""
        self.retry = retry
        """Its retry policy."""
        self.timeout = timeout
        """Seconds an attempt may take (`None`: no limit)."""
        self.keep_result = keep_result
        """Whether its return value is kept (as JSON) in the run's `TaskInfo.result`."""
        self.is_async = inspect.iscoroutinefunction(func)
        functools.update_wrapper(self, func)
        self._analyse(func)
        unknown = set(redact) - set(self.signature.parameters)
        if unknown:
            raise ConfigurationError(
                f"task {self.name}: redact={sorted(unknown)} names no argument "
                f"(arguments: {', '.join(self.signature.parameters) or 'none'})",
                "tasks-redact",
            )
        self.redact = frozenset(redact)
        """Arguments kept out of the run's state (`[redacted]`): secrets, tokens."""

    def _analyse(self, func: Callable[..., Any]) -> None:
        try:
            hints = typing.get_type_hints(func, include_extras=True)
        except Exception as exc:
            raise ConfigurationError(
                f"cannot resolve the annotations of task {self.name}: {exc}",
                "tasks-annotation",
            ) from exc
        arguments: list[inspect.Parameter] = []
        injected: list[inspect.Parameter] = []
        for param in inspect.signature(func).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
                raise ConfigurationError(
                    f"task {self.name}: parameter {param.name!r} is {param.kind.description}; "
                    "tasks take named parameters only",
                    "tasks-signature",
                )
            hint = hints.get(param.name, Any)
            param = param.replace(annotation=hint)
            (injected if _is_dependency(param, hint) else arguments).append(param)
        self.signature = inspect.Signature(arguments)
        self.adapters = {p.name: TypeAdapter(p.annotation) for p in arguments}
        self.injector: Callable[..., Any] | None = None
        if injected:
            keyword = [p.replace(kind=p.KEYWORD_ONLY) for p in injected]

            def dependencies(**values: Any) -> dict[str, Any]:
                return values

            dependencies.__signature__ = inspect.Signature(keyword)  # type: ignore[attr-defined]
            dependencies.__annotations__ = {p.name: p.annotation for p in keyword}
            dependencies.__qualname__ = f"{self.name}.dependencies"
            self.injector = dependencies

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Call the function directly (no worker, no injection)."""
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Task {self.name}>"

    def encode(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Bind a call's arguments to the signature and turn them into JSON values.

        Raises:
            TypeError: the arguments do not fit the task's parameters, or one of them
                cannot be sent as JSON.
        """
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"task {self.name}: {exc}") from None
        return {name: self._jsonable(name, value) for name, value in bound.arguments.items()}

    def _jsonable(self, name: str, value: Any) -> Any:
        reason = None
        if isinstance(value, Iterator):  # pydantic would drain a file or a generator
            reason = "an iterator (a file, a generator) would be consumed, not sent"
        else:
            try:
                jsonable = to_jsonable_python(value)
                # What the message's encoder refuses too (integers over 64 bits, nesting
                # deeper than 254): refused here, before any idempotency key is claimed.
                orjson.dumps(jsonable)
            except (TypeError, ValueError) as exc:  # unknown types, bytes that are not UTF-8
                reason = str(exc)
            else:
                if not non_finite(jsonable):
                    return jsonable
                reason = "NaN and infinity have no JSON form: they would arrive as None"
        raise TypeError(
            f"task {self.name}: argument {name!r} of type {type(value).__qualname__!r} cannot "
            f"be sent as JSON ({reason}); pass JSON values (str, numbers, lists, dicts), "
            "datetimes, UUIDs, dataclasses or pydantic models"
        )

    async def invoke(self, app: App | None, arguments: dict[str, Any]) -> Any:
        """Validate `arguments`, inject the dependencies and run the function once."""
        values = {
            name: self.adapters[name].validate_python(value) for name, value in arguments.items()
        }
        if self.injector is None:
            return await self._call(values)
        if app is None:
            raise ConfigurationError(
                f"task {self.name} has dependencies; install the Tasks plugin on an app",
                "tasks-no-app",
            )
        async with app.resolve(self.injector) as injected:
            return await self._call({**values, **injected})

    async def _call(self, values: dict[str, Any]) -> Any:
        func: Any = self.func
        if self.is_async:
            return await func(**values)
        # Abandoned on cancellation (a timeout, `Tasks.cancel`): a thread cannot be
        # interrupted, so it runs on and whatever it returns is dropped.
        with _threads_lock:
            _threads[0] += 1
        return await anyio.to_thread.run_sync(
            functools.partial(_in_thread, func, values), abandon_on_cancel=True
        )

    async def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> TaskRun:
        """Send a run of the task to its queue now; return its handle.

        Raises:
            TypeError: the arguments do not fit the signature or cannot be sent as JSON.
        """
        return await self.tasks.send(self, self.encode(args, kwargs))

    def options(  # noqa: PLR0913 - the enqueue options, keyword-only
        self,
        *,
        countdown: float | datetime.timedelta | None = None,
        at: datetime.datetime | None = None,
        key: str | None = None,
        session: Any = None,
        queue: str | None = None,
        priority: int | None = None,
    ) -> TaskCall[P]:
        """Return a call of this task with enqueue options: `.options(countdown=60).enqueue(...)`.

        Args:
            countdown: run no sooner than this many seconds (or this `timedelta`) from now.
            at: run no sooner than this time (an aware `datetime`).
            key: an idempotency key: a second run enqueued with a key already used
                (within the state's `keep` time) is not sent; its handle names the first
                (with `session`, a key already taken writes no outbox row).
            session: an `AsyncSession` of the app's database: the run is written to the
                outbox in that session's transaction and sent once it commits (nothing
                is sent if it rolls back).
            queue: the queue to send to instead of the task's.
            priority: the priority, 0 to 9 (higher runs first), instead of the task's.

        Raises:
            ValueError: `priority` is not an integer from 0 to 9, or `countdown` is NaN
                or infinite.
            TypeError: both `countdown` and `at`, a `countdown` that is neither a number
                nor a `timedelta`, or an `at` that is not an aware `datetime`.
        """
        if priority is not None:
            check_priority(priority)
        eta = _eta(countdown, at)
        return TaskCall(self, eta=eta, key=key, session=session, queue=queue, priority=priority)


class TaskCall(Generic[P]):
    """A task with enqueue options, from `Task.options(...)`."""

    __slots__ = ("eta", "key", "priority", "queue", "session", "task")

    def __init__(  # noqa: PLR0913 - the enqueue options, keyword-only
        self,
        task: Task[P, Any],
        *,
        eta: float | None,
        key: str | None,
        session: Any,
        queue: str | None,
        priority: int | None = None,
    ) -> None:
        self.task = task
        self.eta = eta
        self.key = key
        self.session = session
        self.queue = queue
        self.priority = priority

    async def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> TaskRun:
        """Send a run of the task with these options; return its handle."""
        task = self.task
        return await task.tasks.send(
            task,
            task.encode(args, kwargs),
            eta=self.eta,
            key=self.key,
            session=self.session,
            queue=self.queue,
            priority=self.priority,
        )


class TaskRun:
    """The handle of one enqueued run: its `id`, its state and its result."""

    __slots__ = ("id", "tasks")

    def __init__(self, tasks: Tasks, task_id: str) -> None:
        self.tasks = tasks
        self.id = task_id
        """The run's id (give it to `Tasks.get`, `trivium tasks retry ID`, ...)."""

    def __repr__(self) -> str:
        return f"<TaskRun {self.id}>"

    async def info(self) -> TaskInfo | None:
        """Return the run's state (`None` while its transaction is not committed)."""
        return await self.tasks.get(self.id)

    async def result(self, timeout: float = 30.0, poll: float = 0.05) -> Any:  # noqa: ASYNC109 - a wait bound, as asyncio.wait_for has
        """Wait for the run to finish and return its kept result.

        Raises:
            TimeoutError: it has not finished within `timeout` seconds.
            TaskFailedError: it failed (or was cancelled).
        """
        from trivium.tasks._errors import TaskFailedError

        with anyio.fail_after(timeout):
            while True:
                info = await self.tasks.get(self.id)
                if info is not None and info.state == "done":
                    return info.result
                if info is not None and info.state in ("failed", "cancelled"):
                    raise TaskFailedError(info)
                await anyio.sleep(poll)
