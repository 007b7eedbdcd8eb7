"""Priorities: a busy worker starts the highest-priority waiting run first, on every broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from tests.tasks.conftest import clean_redis

from trivium import App
from trivium.errors import ConfigurationError
from trivium.tasks import Retry
from trivium.tasks import Task
from trivium.tasks import Tasks

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


@pytest.fixture(params=["memory", "redis"])
async def tasks(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Tasks]:
    """A one-at-a-time worker's `Tasks`, on each broker (Redis with TRIVIUM_TEST_REDIS_URL)."""
    if request.param == "memory":
        yield Tasks(concurrency=1)
        return
    url = request.getfixturevalue("redis_url")
    try:
        yield Tasks(url, prefix=prefix, concurrency=1, in_app_worker=True)
    finally:
        await clean_redis(url, prefix)


class Line:
    """A worker kept busy by one blocking run, then released, recording what starts."""

    def __init__(self, tasks: Tasks) -> None:
        self.started: list[str] = []
        self.busy = anyio.Event()
        self.release = anyio.Event()

        @tasks.task(name="block")
        async def block() -> None:
            self.busy.set()
            await self.release.wait()

        @tasks.task(name="job")
        async def job(label: str) -> None:
            self.started.append(label)

        @tasks.task(name="urgent", queue="urgent", priority=9)
        async def urgent(label: str) -> None:
            self.started.append(label)

        self.block: Task[[], Any] = block
        self.job: Task[[str], Any] = job
        self.urgent: Task[[str], Any] = urgent

    async def occupy(self) -> None:
        await self.block.enqueue()
        with anyio.fail_after(10):
            await self.busy.wait()

    async def finish(self, count: int) -> list[str]:
        self.release.set()
        with anyio.fail_after(10):
            while len(self.started) < count:  # noqa: ASYNC110 - the runs append as they start
                await anyio.sleep(0.02)
        return self.started


async def test_busy_worker_starts_higher_priority_runs_first(tasks: Tasks) -> None:
    line = Line(tasks)
    app = App(plugins=[tasks])
    async with app.lifespan_context():
        await line.occupy()
        await line.job.enqueue("low-1")
        await line.job.enqueue("low-2")
        mid = await line.job.options(priority=5).enqueue("mid-1")
        await line.urgent.enqueue("urgent")  # another queue: priority counts across queues
        await line.job.options(priority=5).enqueue("mid-2")
        started = await line.finish(5)
        info = await mid.info()
    assert started == ["urgent", "mid-1", "mid-2", "low-1", "low-2"]
    assert info is not None
    assert info.priority == 5


async def test_delayed_run_keeps_its_priority_once_due(tasks: Tasks) -> None:
    line = Line(tasks)
    app = App(plugins=[tasks])
    async with app.lifespan_context():
        await line.occupy()
        await line.job.enqueue("low")
        await line.job.options(countdown=0.2, priority=3).enqueue("delayed")
        await anyio.sleep(0.6)  # due while the worker is still busy
        started = await line.finish(2)
    assert started == ["delayed", "low"]


async def test_retries_keep_the_priority() -> None:
    tasks = Tasks()
    app = App(plugins=[tasks])
    attempts: list[int] = []

    @tasks.task(retry=Retry(max_attempts=2, delay=0.01), priority=7)
    async def flaky() -> None:
        attempts.append(1)
        raise ConnectionError("down")

    async with app.lifespan_context():
        run = await flaky.enqueue()
        await tasks.drain()
        await anyio.sleep(0.1)
        await tasks.drain()
        again = await tasks.retry(run.id)
        await anyio.sleep(0.1)
        await tasks.drain()
        info = await again.info()
    assert len(attempts) == 4
    assert info is not None
    assert info.state == "failed"
    assert info.priority == 7


def test_priority_out_of_range_is_refused_at_decoration() -> None:
    tasks = Tasks()
    with pytest.raises(ConfigurationError, match=r"tasks-priority.*from 0 .* to 9"):

        @tasks.task(priority=10)
        async def loud() -> None: ...

    with pytest.raises(ConfigurationError, match="tasks-priority"):

        @tasks.periodic(every=60, priority=-1)
        async def quiet() -> None: ...

    assert tasks.registry == {}


@pytest.mark.parametrize("priority", [10, -1, 2.5, True, "9"])
def test_priority_option_must_be_an_integer_from_0_to_9(priority: object) -> None:
    tasks = Tasks()

    @tasks.task
    async def job() -> None: ...

    with pytest.raises(ValueError, match=r"priority=.*from 0 .* to 9"):
        job.options(priority=priority)  # type: ignore[arg-type]


def test_cli_list_shows_the_priority(redis_url: str, prefix: str) -> None:
    tasks = Tasks(redis_url, prefix=prefix)
    app = App(plugins=[tasks])

    @tasks.task(name="report", priority=4)
    async def report() -> None: ...

    async def send() -> str:
        async with app.lifespan_context():
            return (await report.enqueue()).id

    try:
        run_id = anyio.run(send)
        group = next(c for c in tasks.cli_commands() if c.name == "tasks")
        listed = CliRunner().invoke(group, ["list"])
        assert listed.exit_code == 0, listed.output
        assert f"{run_id}  queued" in listed.output
        assert "priority=4" in listed.output
    finally:
        anyio.run(clean_redis, redis_url, prefix)
