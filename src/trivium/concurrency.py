"""Run blocking code from async code: `await run_in_threadpool(func, *args)`.

The functions use anyio's worker threads (the same pool as trivium's sync handlers
and dependencies), so the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any
from typing import ParamSpec
from typing import TypeVar

import anyio.to_thread

__all__ = ["contextmanager_in_threadpool", "iterate_in_threadpool", "run_in_threadpool"]

P = ParamSpec("P")
T = TypeVar("T")


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call the blocking `func(*args, **kwargs)` in a worker thread and return its result."""
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))


_DONE: Any = object()


async def iterate_in_threadpool(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a blocking iterable, taking each item in a worker thread."""
    iterator: Iterator[T] = iter(iterable)
    while (item := await anyio.to_thread.run_sync(next, iterator, _DONE)) is not _DONE:
        yield item


@contextlib.asynccontextmanager
async def contextmanager_in_threadpool(
    manager: contextlib.AbstractContextManager[T],
) -> AsyncIterator[T]:
    """Enter and exit a blocking context manager in worker threads."""
    value = await anyio.to_thread.run_sync(manager.__enter__)
    try:
        yield value
    except BaseException as exc:
        if not await anyio.to_thread.run_sync(manager.__exit__, type(exc), exc, exc.__traceback__):
            raise
    else:
        await anyio.to_thread.run_sync(manager.__exit__, None, None, None)
