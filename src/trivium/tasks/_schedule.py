"""Periodic tasks: `@tasks.periodic(every=...)` and `@tasks.periodic(cron=...)`.

A scheduler (`trivium scheduler`, or the app itself with the memory broker) wakes up
every second and enqueues each periodic task whose time has come. Every firing has an
idempotency key made of the task's name and its due time, so several schedulers
running at once (one per host, for availability) send each firing once.

Intervals are aligned on the Unix epoch (`every=3600` fires on the hour), so a restarted
scheduler neither skips nor repeats a firing: it sends the current one if it began less
than `START_GRACE` seconds ago (the key drops it if it was sent), not older ones; cron
expressions (five fields, in UTC) are matched minute by minute with `pycron`, which
taskiq depends on.
"""

from __future__ import annotations

import calendar
import datetime
import logging
import math
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

__all__ = ["START_GRACE", "Periodic", "check_schedule", "run_scheduler"]

logger = logging.getLogger("trivium.tasks")

# The five fields: name, lowest and highest value. pycron matches numbers, `*`, ranges
# `a-b`, steps `*/n` and `a-b/n`, and lists of them; day names only in the day of week.
_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 6),
)
_CRON_ITEM = re.compile(r"^(?:(?P<star>\*)|(?P<start>\w+)(?:-(?P<end>\w+))?)(?:/(?P<step>\w+))?$")
_DAYS = [day.lower() for day in (*calendar.day_name[6:], *calendar.day_name[:6])]
_DAY_ABBRS = [day.lower() for day in (*calendar.day_abbr[6:], *calendar.day_abbr[:6])]


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


def check_schedule(name: str, every: float | None, cron: str | None) -> str | None:
    """Return the cron expression normalised, after checking the schedule.

    Raises:
        ConfigurationError: not exactly one schedule, or an invalid one (`tasks-schedule`).
    """
    if (every is None) == (cron is None):
        raise ConfigurationError(
            f"periodic task {name}: give every=SECONDS or cron='* * * * *', one of them",
            "tasks-schedule",
        )
    if every is not None and (
        isinstance(every, bool)
        or not isinstance(every, (int, float))
        or not math.isfinite(every)  # nan and inf pass `< 1`, then break the scheduler
        or every < 1
    ):
        raise ConfigurationError(
            f"periodic task {name}: every={every!r} must be a number of seconds, at least 1 "
            "and finite",
            "tasks-schedule",
        )
    if cron is None:
        return None
    fields = cron.split() if isinstance(cron, str) else []
    if len(fields) != 5:
        raise ConfigurationError(
            f"periodic task {name}: cron={cron!r} is not a five-field cron expression "
            "(minute hour day-of-month month day-of-week, e.g. '0 3 * * *')",
            "tasks-schedule",
        )
    for text, (field, low, high) in zip(fields, _CRON_FIELDS, strict=True):
        problem = _field_problem(text, low, high, names=field == "day-of-week")
        if problem is not None:
            allowed = f"{low}-{high}" + (
                " (0 is Sunday) or sun-sat" if field == "day-of-week" else ""
            )
            where = f"the {field} field" + (f" {text!r}" if "," in text else "")
            raise ConfigurationError(
                f"periodic task {name}: cron={cron!r}: {where}: {problem}; it takes "
                f"{allowed}, '*', ranges a-b, steps */n or a-b/n, and lists of them",
                "tasks-schedule",
            )
    return " ".join(fields)  # pycron splits on single spaces


def _field_problem(text: str, low: int, high: int, *, names: bool) -> str | None:
    """Return what is wrong with one cron field, `None` if it is valid."""
    for item in text.split(","):
        match = _CRON_ITEM.match(item)
        if match is None:
            return f"{item!r} is not a value, a range or a step"
        step = match["step"]
        if step is not None and (not _digits(step) or int(step) < 1):
            return f"the step of {item!r} must be a whole number, 1 or more"
        if match["star"]:
            continue
        if step is not None and match["end"] is None:
            return f"{item!r} has a step without '*' or a range before it (*/{step})"
        bounds = []
        for value in (match["start"], match["end"]):
            if value is None:
                continue
            number = _cron_value(value, names=names and step is None)
            if number is None:
                return f"{value!r} is not a number" + (
                    " or a day name" if names and step is None else ""
                )
            if not low <= number <= high:
                return f"{value!r} is out of range"
            bounds.append(number)
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            return f"the range {item!r} runs backwards"
    return None


def _digits(value: str) -> bool:
    # str.isdigit() also holds for '²' or '٣', which int() refuses or pycron misreads.
    return value.isascii() and value.isdigit()


def _cron_value(value: str, *, names: bool) -> int | None:
    if _digits(value):
        return int(value)
    lowered = value.lower()
    if names and lowered in _DAYS:
        return _DAYS.index(lowered)
    if names and lowered in _DAY_ABBRS:
        return _DAY_ABBRS.index(lowered)
    return None


START_GRACE = 60.0
"""Seconds after its start a firing is still sent by a scheduler that just started."""


async def run_scheduler(tasks: Tasks, stopping: anyio.Event) -> None:
    """Enqueue periodic tasks as they fall due, until `stopping` is set.

    At start-up the current firing is sent too when it began less than `START_GRACE`
    seconds ago (a scheduler restarted at 03:00:10 still sends the 03:00 run; if the
    one before it sent it, the idempotency key drops this one); older ones are missed.
    """
    last: dict[str, int] = {}
    now = time.time()
    for periodic in tasks.periodic_tasks:
        slot = periodic.slot(now)
        if slot is None:
            continue
        # A cron slot is a minute: it began less than `START_GRACE` ago.
        began = slot * (periodic.every if periodic.every is not None else 60.0)
        if now - began >= START_GRACE:
            last[periodic.task.name] = slot  # long begun: it fired before, or is missed
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
