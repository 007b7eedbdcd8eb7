"""Work to run after the response has been sent."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any
from typing import ParamSpec

import anyio.to_thread

__all__ = ["BackgroundTask", "BackgroundTasks"]

P = ParamSpec("P")


class BackgroundTask:
    """One function call, run after the response: async functions on the loop, others in a thread."""

    __slots__ = ("args", "func", "is_async", "kwargs")

    def __init__(self, func: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        target: Any = func
        while isinstance(target, functools.partial):  # what the partial calls decides
            target = target.func
        if not (inspect.isfunction(target) or inspect.ismethod(target)):
            target = getattr(target, "__call__", target)  # noqa: B004 - callable instances
        self.is_async = inspect.iscoroutinefunction(target)

    async def __call__(self) -> None:
        """Run the call."""
        if self.is_async:
            await self.func(*self.args, **self.kwargs)
        else:
            await anyio.to_thread.run_sync(functools.partial(self.func, *self.args, **self.kwargs))


class BackgroundTasks(BackgroundTask):
    """A list of calls to run, in order, after the response is sent.

    Inject it into a handler or dependency (`tasks: BackgroundTasks`) and call
    `tasks.add_task(send_email, to, subject=...)`. If a task raises, the later ones do not
    run and the error is logged by the server; the client has its response already.
    """

    __slots__ = ("tasks",)

    def __init__(self, tasks: list[BackgroundTask] | None = None) -> None:
        self.tasks: list[BackgroundTask] = list(tasks or [])

    def add_task(self, func: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue `func(*args, **kwargs)`."""
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        """Run every queued task in order."""
        for task in self.tasks:
            await task()

    def __len__(self) -> int:
        return len(self.tasks)
