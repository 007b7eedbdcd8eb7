"""When a run may start: `countdown=` and `at=` are checked; a restarted scheduler still
sends the firing that has just begun, and no older one."""

from __future__ import annotations

import datetime
import math
import time
from decimal import Decimal
from fractions import Fraction
from typing import Any

import anyio
import pytest

from trivium import App
from trivium.tasks import Tasks

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


def make() -> tuple[App, Tasks]:
    tasks = Tasks()
    return App(plugins=[tasks]), tasks


@pytest.mark.parametrize("countdown", [math.nan, math.inf, -math.inf, 10**400])
def test_a_countdown_that_is_not_finite_is_refused(countdown: Any) -> None:
    _, tasks = make()

    @tasks.task
    async def job() -> None: ...

    with pytest.raises(ValueError, match="finite number of seconds"):
        job.options(countdown=countdown)


@pytest.mark.parametrize("countdown", ["5", True, b"5", [5], Decimal(5)])
def test_a_countdown_that_is_not_a_number_is_refused(countdown: Any) -> None:
    _, tasks = make()

    @tasks.task
    async def job() -> None: ...

    with pytest.raises(TypeError, match="number of seconds or a timedelta"):
        job.options(countdown=countdown)


@pytest.mark.parametrize(
    "at",
    ["2027-01-01T00:00:00Z", datetime.date(2027, 1, 1), 1798761600, datetime.time(3)],
)
def test_an_at_that_is_not_a_datetime_is_refused(at: Any) -> None:
    _, tasks = make()

    @tasks.task
    async def job() -> None: ...

    with pytest.raises(TypeError, match="give an aware datetime"):
        job.options(at=at)
    with pytest.raises(TypeError, match="aware datetime"):
        job.options(at=datetime.datetime(2027, 1, 1))  # naive  # noqa: DTZ001


def test_numbers_and_timedeltas_are_countdowns() -> None:
    _, tasks = make()

    @tasks.task
    async def job() -> None: ...

    now = time.time()
    for countdown in (60, 60.0, Fraction(120, 2), datetime.timedelta(minutes=1)):
        eta = job.options(countdown=countdown).eta
        assert eta is not None
        assert now + 59 < eta < now + 62
    at = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
    assert job.options(at=at).eta == at.timestamp()


async def test_a_started_scheduler_sends_the_firing_that_has_just_begun() -> None:
    # A cron firing is the minute it matches: started at 03:00:10, `0 3 * * *` still fires.
    if time.time() % 60 > 55:  # not so late in the minute that the next one comes first
        await anyio.sleep(60 - time.time() % 60 + 0.2)
    app, tasks = make()
    seen: list[float] = []

    @tasks.periodic(cron="* * * * *")
    async def every_minute() -> None:
        seen.append(time.time())

    async with app.lifespan_context():
        with anyio.fail_after(3):
            while not seen:  # noqa: ASYNC110 - waits for the scheduler's first firing
                await anyio.sleep(0.05)


async def test_a_started_scheduler_does_not_send_a_firing_begun_long_ago() -> None:
    now = time.time()
    # An interval whose current firing began over a minute ago, the next not soon.
    every = next(n for n in range(3600, 7200) if 62 <= now % n <= n - 10)
    app, tasks = make()
    seen: list[float] = []

    @tasks.periodic(every=every)
    async def hourly() -> None:
        seen.append(time.time())

    async with app.lifespan_context():
        await anyio.sleep(2.5)
    assert seen == []
