"""Run control: retrying a failed or cancelled run and cancelling a queued or running one.

`Tasks.retry` and `Tasks.cancel` call these; `trivium tasks retry/cancel` and the admin's
task page go through those methods.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from typing import Any

import orjson

from trivium.tasks._task import TaskRun
from trivium.tasks._worker import REDACTED

if TYPE_CHECKING:
    from trivium.tasks._tasks import Tasks

__all__ = ["cancel", "retry"]


async def retry(tasks: Tasks, task_id: str) -> TaskRun:
    """Send run `task_id` again as a new generation (see `Tasks.retry`)."""
    info = await tasks.get(task_id)
    if info is None:
        raise LookupError(f"no task run {task_id!r}")
    if REDACTED in info.kwargs.values():
        raise ValueError(f"task run {task_id} has redacted arguments; enqueue it anew")
    if info.state not in ("failed", "cancelled"):
        raise ValueError(
            f"task run {task_id} is {info.state}; only failed or cancelled runs are retried"
        )
    if info.state == "cancelled" and info.finished_at is None:
        # Sending it now would run it twice at once: the attempt still runs until
        # its worker sees the cancellation.
        raise ValueError(
            f"task run {task_id} was cancelled while running and its attempt has not "
            "stopped yet (a worker stops it at its next await, or within a third of "
            "the lease); retry it once it has"
        )
    info.generation += 1
    message: dict[str, Any] = {
        "id": info.id,
        "task": info.name,
        "kwargs": info.kwargs,
        "attempt": 1,
        "max_attempts": info.max_attempts,
        "queue": info.queue,
        "key": None,
        "eta": None,
        "enqueued_at": time.time(),
        "priority": info.priority,
        "generation": info.generation,
    }
    info.state, info.attempts, info.finished_at = "queued", 0, None
    await tasks.store.put(info)
    if tasks.eager:
        await tasks.run_inline(message)
    else:
        await tasks.transport.send(info.queue, orjson.dumps(message), None, info.priority)
    return TaskRun(tasks, info.id)


async def cancel(tasks: Tasks, task_id: str) -> bool:
    """Mark run `task_id` cancelled and stop it if it runs here (see `Tasks.cancel`)."""
    info = await tasks.get(task_id)
    if info is None:
        raise LookupError(f"no task run {task_id!r}")
    if info.state in ("done", "failed", "cancelled"):
        return False
    scope = tasks.running.get(task_id)
    # A running attempt is finished once its worker has stopped it (which sets
    # `finished_at`); until then the run cannot be retried.
    stopping = info.state == "running" or scope is not None
    info.state, info.error = "cancelled", "cancelled"
    info.finished_at = None if stopping else time.time()
    await tasks.store.put(info)
    if scope is not None:
        scope.cancel()
    return True
