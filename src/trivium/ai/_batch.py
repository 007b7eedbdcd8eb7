"""Dynamic micro-batching: concurrent single calls grouped into one call of a batch function.

A model's cost is often mostly per call (Python overhead, a thread or process hop, a
kernel launch) rather than per row. `@batched` turns a function of a *list* of inputs
into a function of *one* input: callers await their own result while the calls that
arrive within `max_wait_ms` of each other (at most `max_size` of them) go to the model
together.

```python
@batched(max_size=32, max_wait_ms=5)
async def classify(rows: list[list[float]]) -> list[int]:
    return await model.run(predict, rows)


label = await classify([5.1, 3.5, 1.4, 0.2])  # one row in, its label out
```

The batch function returns one result per input, in order. An exception it raises goes
to every caller of that batch; an exception *instance* in its result list goes to that
input's caller only. What a caller cannot receive as such (a `CancelledError` escaping
the function, a `StopIteration`) reaches it as a `BatchError` caused by it. A caller
that is cancelled (its client left) is dropped from the batch if the batch has not
started, and its result discarded otherwise: the other callers are not affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Generic
from typing import TypeVar

from trivium.errors import ConfigurationError

__all__ = ["BatchError", "Batcher", "batched"]

T = TypeVar("T")
R = TypeVar("R")


class BatchError(RuntimeError):
    """The batch function broke its contract.

    It returned not one result per input, or raised (or returned) what a caller cannot
    receive as such: a `CancelledError` escaping it, a `StopIteration`.
    """


class Batcher(Generic[T, R]):
    """Groups single calls into batch calls of `func` (see the module docstring)."""

    def __init__(
        self,
        func: Callable[[list[T]], Awaitable[Sequence[R]]],
        max_size: int,
        max_wait_ms: float,
        max_concurrent_batches: int = 1,
    ) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise ConfigurationError(
                f"@batched(max_size={max_size!r}) must be a whole number, 1 or more",
                "ai-batch-option",
            )
        if (
            isinstance(max_wait_ms, bool)
            or not isinstance(max_wait_ms, int | float)
            or max_wait_ms < 0
        ):
            raise ConfigurationError(
                f"@batched(max_wait_ms={max_wait_ms!r}) must be a number of milliseconds, 0 "
                "or more",
                "ai-batch-option",
            )
        if (
            isinstance(max_concurrent_batches, bool)
            or not isinstance(max_concurrent_batches, int)
            or max_concurrent_batches < 1
        ):
            raise ConfigurationError(
                f"@batched(max_concurrent_batches={max_concurrent_batches!r}) must be a whole "
                "number, 1 or more",
                "ai-batch-option",
            )
        self.func = func
        self.max_size = max_size
        self.max_concurrent = max_concurrent_batches
        """How many batch calls may run at once on one event loop."""
        self.max_wait = max_wait_ms / 1000
        self.batches = 0
        """How many batch calls were made (for tests and metrics)."""
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState[T, R]] = {}

    async def __call__(self, item: T) -> R:
        """Return `item`'s result, computed in a batch with concurrent calls."""
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            # A loop seen for the first time: forget those that were closed since
            # (`asyncio.run` per call, a test suite), whose states would pile up.
            for seen in [seen for seen in self._loops if seen.is_closed()]:
                del self._loops[seen]
            state = self._loops[loop] = _LoopState(self, loop)
        future: asyncio.Future[R] = loop.create_future()
        state.add(item, future)
        return await future


class _LoopState(Generic[T, R]):
    """The waiting calls of one event loop and the task that sends them in batches."""

    def __init__(self, batcher: Batcher[T, R], loop: asyncio.AbstractEventLoop) -> None:
        self.batcher = batcher
        self.loop = loop
        self.pending: list[tuple[T, asyncio.Future[R]]] = []
        self.task: asyncio.Task[None] | None = None
        self.full = asyncio.Event()
        self.running: set[asyncio.Task[None]] = set()
        """Batch calls under way beside the collecting task (`max_concurrent_batches` > 1)."""
        self.slots = asyncio.Semaphore(batcher.max_concurrent)

    def add(self, item: T, future: asyncio.Future[R]) -> None:
        self.pending.append((item, future))
        if len(self.pending) >= self.batcher.max_size:
            self.full.set()
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())

    async def _run(self) -> None:
        try:
            await self._batches()
        except BaseException:
            # The task is cancelled (the loop shuts down) or dies: its waiting callers
            # are told rather than left awaiting forever, and so are those of the batch
            # calls still under way.
            pending, self.pending = self.pending, []
            for _, future in pending:
                future.cancel()
            for task in list(self.running):
                task.cancel()
            raise

    async def _batches(self) -> None:
        batcher = self.batcher
        while self.pending:
            if len(self.pending) < batcher.max_size and batcher.max_wait > 0:
                self.full.clear()
                # `asyncio.timeout`: `wait_for` can lose a cancellation on Python 3.11.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(batcher.max_wait):
                        await self.full.wait()
            batch = self.pending[: batcher.max_size]
            del self.pending[: batcher.max_size]
            if len(self.pending) >= batcher.max_size:
                self.full.set()
            live = [(item, future) for item, future in batch if not future.done()]
            if not live:
                continue
            if batcher.max_concurrent == 1:
                await self._call(live)
                continue
            # Several batches at once: wait for a free slot (calls go on gathering
            # meanwhile), then run this one beside the collecting task.
            try:
                await self.slots.acquire()
            except BaseException:
                for _, future in live:  # taken from `pending`, not yet running: told here
                    future.cancel()
                raise
            task = self.loop.create_task(self._call_in_slot(live))
            self.running.add(task)
            task.add_done_callback(self.running.discard)

    async def _call_in_slot(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            await self._call(batch)
        finally:
            self.slots.release()

    async def _call(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        batcher = self.batcher
        batcher.batches += 1
        try:
            results = list(await batcher.func([item for item, _ in batch]))
        except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
            _fail(batch, _deliverable(exc, f"{_name(batcher.func)} raised"))
            return
        except BaseException as exc:
            task = asyncio.current_task()
            if isinstance(exc, asyncio.CancelledError) and task and task.cancelling():
                for _, future in batch:  # this task is cancelled: so are its calls
                    future.cancel()
                raise
            _fail(batch, _deliverable(exc, f"{_name(batcher.func)} raised"))
            if not isinstance(exc, asyncio.CancelledError):
                raise  # KeyboardInterrupt, SystemExit: the callers know, the loop too
            return  # a cancellation escaping the batch function is its error
        if len(results) != len(batch):
            error = BatchError(
                f"{_name(batcher.func)} returned {len(results)} results for {len(batch)} "
                "inputs; a batch function returns one result per input, in order"
            )
            _fail(batch, error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue  # its caller was cancelled meanwhile
            if isinstance(result, BaseException):
                future.set_exception(_deliverable(result, f"{_name(batcher.func)} returned"))
            else:
                future.set_result(result)


def _name(func: object) -> str:
    return str(getattr(func, "__qualname__", func))


def _fail(batch: Sequence[tuple[object, asyncio.Future[Any]]], error: BaseException) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)


def _deliverable(error: BaseException, what: str) -> BaseException:
    """Return `error` as its callers can receive it.

    A future refuses a `StopIteration`, and a `CancelledError` (or another exception
    that is not an `Exception`) would look like the caller's own cancellation or exit:
    those reach the callers as a `BatchError` whose cause is the original.
    """
    if isinstance(error, Exception) and not isinstance(error, StopIteration):
        return error
    detail = f": {error}" if str(error) else ""
    wrapped = BatchError(f"{what} {type(error).__name__}{detail}, which a caller cannot receive")
    wrapped.__cause__ = error
    return wrapped


def batched(
    max_size: int = 32, max_wait_ms: float = 5, *, max_concurrent_batches: int = 1
) -> Callable[[Callable[[list[T]], Awaitable[Sequence[R]]]], Callable[[T], Awaitable[R]]]:
    """Group concurrent calls into batches of at most `max_size`, waiting `max_wait_ms`.

    Decorates an async function of a list of inputs returning one result per input;
    the decorated function takes one input and returns its result. One batch runs at a
    time per event loop; `max_concurrent_batches=N` lets N run at once (a `Model` with
    `workers=N`), the next batch gathering while they run.

    Raises:
        ConfigurationError: `max_size`, `max_wait_ms` or `max_concurrent_batches` out of
            range, or a sync function (`ai-batch-option`).
    """

    def decorate(
        func: Callable[[list[T]], Awaitable[Sequence[R]]],
    ) -> Callable[[T], Awaitable[R]]:
        if not inspect.iscoroutinefunction(func):
            raise ConfigurationError(
                f"@batched takes an async function; run {func.__qualname__}'s blocking work "
                "with `await model.run(...)` or `anyio.to_thread.run_sync` inside it",
                "ai-batch-option",
            )
        batcher: Batcher[T, R] = Batcher(func, max_size, max_wait_ms, max_concurrent_batches)

        @functools.wraps(func)
        async def one(item: T) -> R:
            return await batcher(item)

        one.batcher = batcher  # type: ignore[attr-defined]
        return one

    return decorate
