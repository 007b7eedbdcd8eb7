"""Tasks on RabbitMQ: priorities, delays and retries, and runs of stopped or killed workers.

Needs `TRIVIUM_TEST_RABBITMQ_URL` (amqp://guest:guest@127.0.0.1:5672/) and, for the run
state and delayed runs, `TRIVIUM_TEST_REDIS_URL`.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from trivium import App
from trivium.errors import ConfigurationError
from trivium.tasks import Retry
from trivium.tasks import Tasks

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rabbitmq_url() -> str:
    """The test RabbitMQ URL (tests needing it skip without `TRIVIUM_TEST_RABBITMQ_URL`)."""
    url = os.environ.get("TRIVIUM_TEST_RABBITMQ_URL", "")
    if not url:
        pytest.skip(
            "RabbitMQ task tests need TRIVIUM_TEST_RABBITMQ_URL (amqp://guest:guest@127.0.0.1:5672/)"
        )
    return url


@pytest.fixture
async def broker(rabbitmq_url: str, redis_url: str, prefix: str) -> AsyncIterator[dict[str, Any]]:
    """`Tasks` options for RabbitMQ; deletes this test's queues and Redis keys after it."""
    yield {"broker": rabbitmq_url, "state": redis_url, "prefix": prefix}
    await _clean(rabbitmq_url, redis_url, prefix)


async def _clean(rabbitmq_url: str, redis_url: str, prefix: str) -> None:
    import aio_pika
    from redis.asyncio import Redis

    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(f"{prefix}.default")
    redis = Redis.from_url(redis_url)
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def _app(options: dict[str, Any], started: list[str], **more: Any) -> tuple[App, Tasks]:
    tasks = Tasks(**options, **more)
    app = App(plugins=[tasks])

    @tasks.task(name="job", keep_result=True, retry=Retry(max_attempts=2, delay=0.05))
    async def job(label: str) -> str:
        started.append(label)
        if label.startswith("fail"):
            raise ConnectionError("down")
        return label

    @tasks.task(name="block")
    async def block(seconds: float) -> None:
        started.append("block")
        await anyio.sleep(seconds)

    return app, tasks


async def _until(condition: Any) -> None:
    with anyio.fail_after(10):
        while not condition():  # noqa: ASYNC110 - the runs append as they start
            await anyio.sleep(0.02)


async def test_busy_worker_starts_higher_priority_runs_first(broker: dict[str, Any]) -> None:
    started: list[str] = []
    app, tasks = _app(broker, started, concurrency=1, in_app_worker=True)
    job = tasks.registry["job"]
    async with app.lifespan_context():
        await tasks.registry["block"].enqueue(0.5)
        await _until(lambda: started)
        await job.enqueue("low-1")
        await job.enqueue("low-2")
        mid = await job.options(priority=5).enqueue("mid-1")
        await job.options(priority=9).enqueue("high")
        await job.options(priority=5).enqueue("mid-2")
        await _until(lambda: len(started) == 6)
        info = await mid.info()
    assert started == ["block", "high", "mid-1", "mid-2", "low-1", "low-2"]
    assert info is not None
    assert info.priority == 5


async def test_delayed_runs_and_retries_keep_their_priority(broker: dict[str, Any]) -> None:
    started: list[str] = []
    app, tasks = _app(broker, started, in_app_worker=True)
    job = tasks.registry["job"]
    async with app.lifespan_context():
        delayed = await job.options(countdown=0.3, priority=3).enqueue("later")
        failing = await job.options(priority=7).enqueue("fail")
        assert await delayed.result(timeout=10) == "later"
        await _until(lambda: started.count("fail") == 2)
        await anyio.sleep(0.1)
        info = await failing.info()
    assert started.index("later") > started.index("fail")  # not before its countdown
    assert info is not None
    assert (info.state, info.attempts, info.priority) == ("failed", 2, 7)


async def test_a_run_left_unacknowledged_goes_to_another_worker(broker: dict[str, Any]) -> None:
    started: list[str] = []
    app, first = _app(broker, started)
    run = await first.registry["block"].enqueue(2.0)
    stopping = anyio.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: first.work(stopping, grace=0))
        await _until(lambda: started)
        stopping.set()  # gives up the running task without acknowledging it
    await first.stop()  # its connection closes: RabbitMQ requeues the message
    second_app, second = _app(broker, started, in_app_worker=True)
    async with second_app.lifespan_context():
        with anyio.fail_after(10):
            while (info := await second.get(run.id)) is None or info.state != "done":  # noqa: ASYNC110 - polls state kept in Redis
                await anyio.sleep(0.05)
    assert started == ["block", "block"]


def test_rabbitmq_needs_a_redis_for_state() -> None:
    with pytest.raises(ConfigurationError, match="tasks-state"):
        Tasks("amqp://guest:guest@127.0.0.1:5672/")
    with pytest.raises(ConfigurationError, match="tasks-state"):
        Tasks("redis://127.0.0.1:6379/0", state="redis://127.0.0.1:6379/1")


@pytest.fixture(scope="module")
def kill_env() -> dict[str, str]:
    """The worker processes' environment (the app module reads it once, on import)."""
    rabbitmq = os.environ.get("TRIVIUM_TEST_RABBITMQ_URL", "")
    redis = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")
    if not rabbitmq or not redis:
        pytest.skip("needs TRIVIUM_TEST_RABBITMQ_URL and TRIVIUM_TEST_REDIS_URL")
    values = {
        "RMQ_BROKER_URL": rabbitmq,
        "RMQ_STATE_URL": redis,
        "RMQ_PREFIX": f"test-rmq:{uuid.uuid4().hex[:8]}",
    }
    os.environ.update(values)
    return {**os.environ, **values, "TRIVIUM_APP": "tests.tasks.rabbitmq_app:app"}


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "trivium.cli", "worker", "--grace", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_sigkilled_workers_lose_no_run(kill_env: dict[str, str]) -> None:
    from tests.tasks import rabbitmq_app

    tasks = rabbitmq_app.tasks
    workers = [_worker(kill_env) for _ in range(2)]
    kills = 0
    try:
        runs = [
            await rabbitmq_app.nap.options(priority=n % 10, countdown=0.5 * (n % 4 == 0)).enqueue(n)
            for n in range(40)
        ]
        with anyio.fail_after(60):
            while True:
                infos = [await tasks.get(run.id) for run in runs]
                if all(info is not None and info.state == "done" for info in infos):
                    break
                # A kill counts once runs are under way (a worker still starting holds none).
                if kills < 4 and any(
                    info is not None and info.state == "running" for info in infos
                ):
                    victim = random.randrange(len(workers))  # noqa: S311 - test, not crypto
                    os.kill(workers[victim].pid, signal.SIGKILL)
                    workers[victim].wait()
                    workers[victim] = _worker(kill_env)
                    kills += 1
                await anyio.sleep(0.7)
        assert kills >= 2  # killed while runs were under way; RabbitMQ gave them to the others
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
        await tasks.stop()
        await _clean(kill_env["RMQ_BROKER_URL"], kill_env["RMQ_STATE_URL"], kill_env["RMQ_PREFIX"])
