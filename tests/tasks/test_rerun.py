"""Runs that fail for long, or are cancelled then retried, still run as often as asked."""

from __future__ import annotations

import anyio
import pytest
from tests.tasks.conftest import clean_redis

from trivium import App
from trivium.tasks import Retry
from trivium.tasks import TaskFailedError
from trivium.tasks import Tasks

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


def test_retry_wait_is_capped_at_any_attempt() -> None:
    policy = Retry(max_attempts=5000, delay=0.5, max_delay=60, jitter=False)
    assert policy.wait(1025) == 60
    assert policy.wait(10**9) == 60


async def test_run_retried_past_attempt_1024_ends_failed() -> None:
    tasks = Tasks()
    app = App(plugins=[tasks])
    attempts: list[int] = []

    @tasks.task(retry=Retry(max_attempts=1030, delay=0, jitter=False))
    async def webhook() -> None:
        attempts.append(1)
        raise ConnectionError("endpoint down")

    async with app.lifespan_context():
        run = await webhook.enqueue()
        with pytest.raises(TaskFailedError, match="ConnectionError: endpoint down"):
            await run.result(timeout=30)
        info = await run.info()
    assert info is not None
    assert (info.state, info.attempts, len(attempts)) == ("failed", 1030, 1030)


async def test_cancelled_queued_run_retried_runs_once() -> None:
    tasks = Tasks(concurrency=2)
    app = App(plugins=[tasks])
    runs: list[int] = []

    @tasks.task
    async def blocker() -> None:
        await anyio.sleep(0.3)

    @tasks.task
    async def charge(order: int) -> None:
        runs.append(order)
        await anyio.sleep(0.1)

    async with app.lifespan_context():
        await blocker.enqueue()
        await blocker.enqueue()  # both slots busy: the charge waits in the queue
        run = await charge.enqueue(42)
        assert await tasks.cancel(run.id)
        await tasks.retry(run.id)
        await tasks.drain()
        info = await run.info()
    assert runs == [42]
    assert info is not None
    assert info.state == "done"


async def test_retry_is_refused_until_a_cancelled_attempt_has_stopped() -> None:
    tasks = Tasks()
    app = App(plugins=[tasks])
    started: list[int] = []

    @tasks.task
    async def job() -> None:
        started.append(1)
        await anyio.sleep(0.2)

    async with app.lifespan_context():
        run = await job.enqueue()
        with anyio.fail_after(5):
            while not started:  # noqa: ASYNC110 - waits for the in-app worker
                await anyio.sleep(0.01)
        assert await tasks.cancel(run.id)
        with pytest.raises(ValueError, match="has not stopped yet"):
            await tasks.retry(run.id)
        with anyio.fail_after(5):  # the attempt stops at its next await
            while (info := await tasks.get(run.id)) is None or info.finished_at is None:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        await tasks.retry(run.id)
        await run.result(timeout=5)
    assert started == [1, 1]


async def test_cancelled_running_run_on_a_worker_retried_runs_once(
    redis_url: str, prefix: str
) -> None:
    worker = Tasks(redis_url, prefix=prefix, in_app_worker=True, lease=0.6)
    app = App(plugins=[worker])
    client = Tasks(redis_url, prefix=prefix)
    starts: list[int] = []
    ends: list[int] = []

    @worker.task(name="long")
    async def long(n: int) -> None:
        starts.append(n)
        await anyio.sleep(1.5)
        ends.append(n)

    try:
        async with app.lifespan_context():
            run = await worker.registry["long"].enqueue(1)
            with anyio.fail_after(10):
                while not starts:  # noqa: ASYNC110 - waits for the worker
                    await anyio.sleep(0.02)
            assert await client.cancel(run.id)
            with pytest.raises(ValueError, match="has not stopped yet"):
                await client.retry(run.id)
            with anyio.fail_after(10):
                while True:
                    try:
                        await client.retry(run.id)
                        break
                    except ValueError:
                        await anyio.sleep(0.05)
            await run.result(timeout=10)
            await anyio.sleep(1.0)  # past the lease: nothing else comes back
        assert starts == [1, 1]
        assert ends == [1]
    finally:
        await client.stop()
        await clean_redis(redis_url, prefix)
