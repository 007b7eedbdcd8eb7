"""Periodic tasks: `@tasks.periodic(every=...)` and `@tasks.periodic(cron=...)`.

A scheduler (`trivium scheduler`, or the app itself with the memory broker) wakes up
every second and enqueues each periodic task whose time has come. Every firing has an
idempotency key made of the task's name and its due time, so several schedulers
running at once (one per host, for availability) send each firing once.

Intervals are aligned on the Unix epoch (`every=3600` fires on the hour), so a restarted
scheduler neither skips nor repeats a firing; cron expressions (five fields, in UTC)
are matched minute by minute with `pycron`, which taskiq depends on.
"""

from __future__ import annotations

import datetime
import logging
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import anyio

from trivium.errors import ConfigurationError

if TYPE_CHECKING:
    from trivium.tasks._task import Task
    from trivium.tasks._tasks import Tasks

__all__ = ["Periodic", "check_schedule", "run_scheduler"]

logger = logging.getLogger("trivium.tasks")

_CRON_FIELD = re.compile(r"^[\d*/,\-]+$|^[a-zA-Z]{3}([,\-][a-zA-Z]{3})*$")


@dataclass(frozen=True, slots=True)
class Periodic:
    """A task run on a schedule: every `every` seconds, or when `cron` matches (UTC)."""

    task: Task[Any, Any]
    """The task (it takes no arguments but its dependencies)."""
    every: float | None
    """Seconds between firings, aligned on the Unix epoch."""
    cron: str | None
    """A five-field cron expression, matched in UTC."""

    def slot(self, now: float) -> int | None:
        """Return the firing due at `now` (an increasing number), or `None`."""
        if self.every is not None:
            return int(now // self.every)
        import pycron  # type: ignore[import-untyped]

        minute = int(now // 60)
        moment = datetime.datetime.fromtimestamp(minute * 60, datetime.UTC).replace(tzinfo=None)
        return minute if pycron.is_now(self.cron, moment) else None


def check_schedule(name: str, every: float | None, cron: str | None) -> None:
    """Raise `ConfigurationError` unless exactly one valid schedule is given."""
    if (every is None) == (cron is None):
        raise ConfigurationError(
            f"periodic task {name}: give every=SECONDS or cron='* * * * *', one of them",
            "tasks-schedule",
        )
    if every is not None and every < 1:
        raise ConfigurationError(
            f"periodic task {name}: every={every!r} must be at least 1 second", "tasks-schedule"
        )
    if cron is not None:
        fields = cron.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(field) for field in fields):
            raise ConfigurationError(
                f"periodic task {name}: cron={cron!r} is not a five-field cron expression "
                "(minute hour day-of-month month day-of-week, e.g. '0 3 * * *')",
                "tasks-schedule",
            )


async def run_scheduler(tasks: Tasks, stopping: anyio.Event) -> None:
    """Enqueue periodic tasks as they fall due, until `stopping` is set."""
    last: dict[str, int] = {}
    now = time.time()
    for periodic in tasks.periodic_tasks:
        slot = periodic.slot(now)
        if slot is not None:
            last[periodic.task.name] = slot  # the current slot may have fired before start
    while not stopping.is_set():
        with anyio.move_on_after(1.0 - time.time() % 1.0 + 0.01):
            await stopping.wait()
        if stopping.is_set():
            return
        now = time.time()
        for periodic in tasks.periodic_tasks:
            slot = periodic.slot(now)
            name = periodic.task.name
            if slot is None or last.get(name) == slot:
                continue
            last[name] = slot
            try:
                await periodic.task.options(key=f"periodic:{name}:{slot}").enqueue()
            except Exception:
                logger.exception("enqueueing periodic task %s failed", name)
