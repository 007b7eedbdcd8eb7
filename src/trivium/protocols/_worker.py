"""A Granian worker's start-up and shutdown of the app, and what it does once started.

`WorkerLifespan` runs the app's lifespan in one task across Granian's two calls.
Once started, the worker settles the cyclic collector.

Everything built during start-up (modules, routes, validators, pools) lives as long as
the worker, so it is collected once and frozen out of the collector's scans.

Then the young generation's threshold is raised. CPython collects it each time 700 more
container objects exist than at the last collection. A worker under load keeps a few
thousand such objects alive only while its requests are in flight (sessions, rows,
parsed forms, frames), all of them freed by reference counting when each request ends:
the count crosses 700 again and again on the way up, and each crossing scans every
request in flight for cycles there are none of. Measured on the full-stack `form_post`
benchmark (64 connections), that was about 30 us of a 500 us post; with 10,000 the
collector hardly runs under load, and real cycles are still collected, a little later.
A threshold the app set itself (anything but CPython's default) is kept.
"""

from __future__ import annotations

import contextlib
import gc
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    import asyncio

__all__ = ["YOUNG_THRESHOLD", "WorkerLifespan", "settle_collector"]

YOUNG_THRESHOLD = 10_000
"""Net new container objects between two collections of the young generation."""

_CPYTHON_DEFAULT = (700, 10, 10)


def settle_collector() -> None:
    """Collect and freeze what start-up built; raise the young threshold if still CPython's."""
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    if thresholds == _CPYTHON_DEFAULT:
        gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])


class WorkerLifespan:
    """An app's lifespan run by a worker whose server starts and stops it in two calls.

    Granian calls `__rsgi_init__` before its loop serves and `__rsgi_del__` after, each
    running the loop until its work is done. Entering the lifespan in one of those runs
    and leaving it in the other would be two tasks: a lifespan holding an anyio task
    group or cancel scope (the MCP SDK's session manager does) then fails at shutdown
    with "exit cancel scope in a different task". Here one task enters the lifespan,
    waits for `stop()` and leaves it, as an ASGI server's lifespan task does.
    """

    __slots__ = ("_stop", "_task")

    def __init__(self) -> None:
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def start(
        self,
        loop: asyncio.AbstractEventLoop,
        context: contextlib.AbstractAsyncContextManager[dict[str, Any]],
    ) -> dict[str, Any]:
        """Enter `context` in a task of its own on `loop`; return its state once entered.

        Raises:
            Exception: what entering the lifespan raised (its start-up failed).
        """
        import asyncio  # the worker's loop runs on it; `import trivium` does not load it

        entered: asyncio.Future[dict[str, Any]] = loop.create_future()
        stop = self._stop = asyncio.Event()

        async def hold() -> None:
            async with context as state:
                entered.set_result(state)
                await stop.wait()

        def failed(task: asyncio.Task[None]) -> None:
            if not entered.done():  # start-up raised (or was cancelled) before entering
                if task.cancelled():
                    entered.cancel()
                else:
                    entered.set_exception(task.exception() or RuntimeError("lifespan ended"))

        self._task = loop.create_task(hold())
        self._task.add_done_callback(failed)
        return loop.run_until_complete(entered)

    def stop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Leave the lifespan (its shutdown runs) in the task that entered it."""
        task, self._task = self._task, None
        if task is None or self._stop is None:
            return
        self._stop.set()
        loop.run_until_complete(task)
