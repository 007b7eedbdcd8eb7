"""Runs that end badly, brokers that stop answering, and values JSON cannot carry."""

from __future__ import annotations

import logging
import math
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.faults import FaultProxy
from tests.faults import fault_proxy
from tests.tasks.conftest import clean_redis

from trivium import App
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.errors import ServiceUnavailable
from trivium.tasks import Retry
from trivium.tasks import TaskFailedError
from trivium.tasks import Tasks
from trivium.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


class Abort(BaseException):
    """A `BaseException` of a library's own, as `KeyboardInterrupt` is."""


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


def _exit() -> None:
    sys.exit(3)


def _abort() -> None:
    raise Abort


@pytest.mark.parametrize("raiser", [_exit, _abort], ids=["sys.exit", "BaseException"])
@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_a_task_raising_a_base_exception_fails_only_its_run(
    raiser: object, *, sync: bool
) -> None:
    tasks = Tasks()
    app = App(plugins=[tasks])
    ran: list[str] = []

    if sync:

        @tasks.task(name="legacy", retry=Retry(max_attempts=3, delay=0.01))
        def legacy() -> None:
            raiser()  # type: ignore[operator]

    else:

        @tasks.task(name="legacy", retry=Retry(max_attempts=3, delay=0.01))
        async def legacy() -> None:
            raiser()  # type: ignore[operator]

    @tasks.task
    async def fine() -> None:
        ran.append("fine")

    async with AsyncTestClient(app):
        bad = await legacy.enqueue()
        with pytest.raises(TaskFailedError):
            await bad.result(timeout=5)
        await fine.enqueue()
        await tasks.drain(timeout=5)
        info = await tasks.get(bad.id)
    assert ran == ["fine"]
    assert info is not None
    assert info.state == "failed"
    assert info.attempts == 1  # Retry(on=(Exception,)) does not cover it
    expected = "SystemExit" if raiser is _exit else "Abort"
    assert (info.error or "").startswith(expected)
    assert expected in (info.traceback or "")


async def test_an_error_whose_str_raises_still_fails_the_run() -> None:
    tasks = Tasks()
    app = App(plugins=[tasks])

    @tasks.task
    async def odd() -> None:
        raise Unprintable

    async with AsyncTestClient(app):
        run = await odd.enqueue()
        with pytest.raises(TaskFailedError) as failed:
            await run.result(timeout=5)
    assert failed.value.info.error == "Unprintable: <Unprintable.__str__ raised>"


# NaN and infinity ---------------------------------------------------------------------


async def test_nan_and_infinity_arguments_are_refused_at_enqueue() -> None:
    tasks = Tasks()
    App(plugins=[tasks])

    @tasks.task
    async def scale(factor: float, sizes: list[float]) -> None: ...

    with pytest.raises(TypeError, match=r"argument 'factor' .*NaN and infinity"):
        await scale.enqueue(math.inf, [])
    with pytest.raises(TypeError, match=r"argument 'sizes' .*NaN and infinity"):
        await scale.enqueue(1.0, [1.0, math.nan])


async def test_a_nan_result_fails_the_run_instead_of_reading_none() -> None:
    tasks = Tasks()
    app = App(plugins=[tasks])

    @tasks.task(keep_result=True)
    async def ratio() -> dict[str, float]:
        return {"ratio": float("nan")}

    async with AsyncTestClient(app):
        run = await ratio.enqueue()
        with pytest.raises(TaskFailedError, match="NaN and infinity have no JSON form"):
            await run.result(timeout=5)


# The outbox's table --------------------------------------------------------------------


async def test_a_missing_outbox_table_says_to_migrate(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    tasks = Tasks()
    app = App(plugins=[db, tasks])

    @tasks.task
    async def job() -> None: ...

    @app.post("/job")
    async def enqueue(session: AsyncSession = db.depends()) -> None:
        await job.options(session=session).enqueue()

    async with AsyncTestClient(app) as client:
        with pytest.raises(ConfigurationError, match=r"trivium_task_outbox.*trivium db migrate"):
            await client.post("/job")
        with caplog.at_level(logging.INFO, "trivium.tasks"):
            caplog.clear()
            assert await tasks.relay() == 0
            assert await tasks.relay() == 0  # said once, not at every sweep
    said = [r for r in caplog.records if r.name == "trivium.tasks"]
    assert len(said) == 1
    assert said[0].exc_info is None
    assert "trivium db migrate" in said[0].getMessage()


# Redis and RabbitMQ that stop answering --------------------------------------------------


@pytest.fixture
def redis_proxy(redis_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(redis_url) as running:
        yield running


async def test_a_stalled_redis_answers_503_in_seconds(redis_proxy: FaultProxy, prefix: str) -> None:
    tasks = Tasks(redis_proxy.url, prefix=prefix)
    app = App(plugins=[tasks])

    @tasks.task
    async def ping() -> None: ...

    @app.post("/ping")
    async def endpoint() -> None:
        await ping.enqueue()

    try:
        async with AsyncTestClient(app) as client:
            assert (await client.post("/ping")).status_code == 200
            redis_proxy.stall()
            started = time.monotonic()
            with anyio.fail_after(10):
                answer = await client.post("/ping")
            took = time.monotonic() - started
            redis_proxy.restore()
    finally:
        redis_proxy.restore()
        await clean_redis(str(os.environ["TRIVIUM_TEST_REDIS_URL"]), prefix)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert took < 5


async def test_a_stalled_redis_stops_start_up_with_tasks_unreachable(
    redis_proxy: FaultProxy, prefix: str
) -> None:
    tasks = Tasks(redis_proxy.url, prefix=prefix)
    app = App(plugins=[tasks])
    redis_proxy.stall()
    with anyio.fail_after(10), pytest.raises(ConfigurationError, match="tasks-unreachable"):
        async with AsyncTestClient(app):
            pass


@pytest.fixture
def rabbitmq_url() -> str:
    url = os.environ.get("TRIVIUM_TEST_RABBITMQ_URL", "")
    if not url:
        pytest.skip("needs TRIVIUM_TEST_RABBITMQ_URL (amqp://guest:guest@127.0.0.1:5672/)")
    return url


@pytest.fixture
def rabbitmq_proxy(rabbitmq_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(rabbitmq_url) as running:
        yield running


async def _clean_rabbitmq(url: str, queue: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)


def _amqp_tasks(
    proxy: FaultProxy, redis_url: str, prefix: str, *, in_app_worker: bool = True
) -> Tasks:
    # Reconnect at once once the proxy forwards again (aio-pika waits 5 s by default).
    return Tasks(
        proxy.url.rstrip("/") + "/?reconnect_interval=0.1",
        state=redis_url,
        prefix=prefix,
        in_app_worker=in_app_worker,
    )


async def test_rabbitmq_lost_while_the_app_runs_answers_503(
    rabbitmq_proxy: FaultProxy, rabbitmq_url: str, redis_url: str, prefix: str
) -> None:
    tasks = _amqp_tasks(rabbitmq_proxy, redis_url, prefix)
    app = App(plugins=[tasks])

    @tasks.task
    async def ping() -> None: ...

    @app.post("/ping")
    async def endpoint() -> None:
        await ping.enqueue()

    try:
        async with AsyncTestClient(app) as client:
            assert (await client.post("/ping")).status_code == 200
            rabbitmq_proxy.cut()
            await anyio.sleep(0.2)
            answer = await client.post("/ping")
            rabbitmq_proxy.restore()
    finally:
        rabbitmq_proxy.restore()
        await _clean_rabbitmq(rabbitmq_url, f"{prefix}.default")
        await clean_redis(redis_url, prefix)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"


async def test_a_keyed_run_whose_send_failed_is_sent_by_the_retry(
    rabbitmq_proxy: FaultProxy, rabbitmq_url: str, redis_url: str, prefix: str
) -> None:
    tasks = _amqp_tasks(rabbitmq_proxy, redis_url, prefix, in_app_worker=False)
    app = App(plugins=[tasks])

    @tasks.task
    async def charge(order: str) -> None: ...

    key = f"charge-{uuid.uuid4().hex[:8]}"
    try:
        async with AsyncTestClient(app):
            await charge.enqueue("warm-up")
            rabbitmq_proxy.cut()
            await anyio.sleep(0.2)
            with pytest.raises(ServiceUnavailable):
                await charge.options(key=key).enqueue("o1")
            rabbitmq_proxy.restore()
            with anyio.fail_after(10):
                while True:  # as a caller told to retry does, with the same key
                    try:
                        run = await charge.options(key=key).enqueue("o1")
                        break
                    except ServiceUnavailable:
                        await anyio.sleep(0.1)
        sent = await _queued_ids(rabbitmq_url, f"{prefix}.default")
    finally:
        rabbitmq_proxy.restore()
        await _clean_rabbitmq(rabbitmq_url, f"{prefix}.default")
        await clean_redis(redis_url, prefix)
    assert run.id in sent


async def test_the_in_app_worker_takes_runs_again_once_rabbitmq_is_back(
    rabbitmq_proxy: FaultProxy, rabbitmq_url: str, redis_url: str, prefix: str
) -> None:
    tasks = _amqp_tasks(rabbitmq_proxy, redis_url, prefix)
    app = App(plugins=[tasks])
    ran: list[str] = []

    @tasks.task
    async def charge(order: str) -> None:
        ran.append(order)

    try:
        async with AsyncTestClient(app):
            await charge.enqueue("warm-up")  # the worker may be subscribing right now
            rabbitmq_proxy.cut()
            await anyio.sleep(0.2)
            rabbitmq_proxy.restore()
            with anyio.fail_after(10):
                while True:
                    try:
                        await charge.enqueue("after")
                        break
                    except ServiceUnavailable:
                        await anyio.sleep(0.1)
                while "after" not in ran:  # noqa: ASYNC110 - the worker appends
                    await anyio.sleep(0.05)
    finally:
        rabbitmq_proxy.restore()
        await _clean_rabbitmq(rabbitmq_url, f"{prefix}.default")
        await clean_redis(redis_url, prefix)


async def _queued_ids(url: str, queue: str) -> list[str]:
    """Return the run ids of the messages waiting in `queue` (taking them)."""
    import aio_pika
    import orjson

    ids = []
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.get_queue(queue)
        while (message := await declared.get(fail=False)) is not None:
            ids.append(orjson.loads(message.body)["id"])
            await message.ack()
    return ids


# `trivium worker --grace` ----------------------------------------------------------------

_GRACE_APP = """
import time
from trivium import App
from trivium.tasks import Tasks

tasks = Tasks({url!r}, prefix={prefix!r}, lease=2)
app = App(plugins=[tasks])

@tasks.task(name="crunch")
def crunch(seconds: float, marker: str) -> None:
    with open(marker, "a") as file:
        file.write("start\\n")
    time.sleep(seconds)
    with open(marker, "a") as file:
        file.write("end\\n")
"""


def _start_worker(where: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "trivium.cli", "worker", "--grace", "0.5", "-c", "1"],
        cwd=where,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_worker_stops_after_grace_while_a_sync_task_runs(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    (tmp_path / "grace_app.py").write_text(_GRACE_APP.format(url=redis_url, prefix=prefix))
    marker = tmp_path / "marker.txt"
    env = {
        **os.environ,
        "TRIVIUM_APP": "grace_app:app",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    tasks = Tasks(redis_url, prefix=prefix)
    App(plugins=[tasks])

    @tasks.task(name="crunch")
    def crunch(seconds: float, marker: str) -> None: ...

    worker = _start_worker(tmp_path, env)
    try:
        await crunch.enqueue(20, str(marker))
        with anyio.fail_after(20):
            while not marker.exists():  # noqa: ASYNC110 - another process writes it
                await anyio.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        started = time.monotonic()
        with anyio.fail_after(10):
            while worker.poll() is None:  # noqa: ASYNC110 - another process
                await anyio.sleep(0.05)
        took = time.monotonic() - started
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        await tasks.stop()
        await clean_redis(redis_url, prefix)
    assert took < 5
    assert worker.returncode == 0
    assert marker.read_text().split() == ["start"]  # the thread went with the process
