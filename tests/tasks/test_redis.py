"""Tasks on Redis Streams: shared state, delays handed off once, leases, the CLI."""

from __future__ import annotations

import anyio
import pytest
from click.testing import CliRunner
from redis.asyncio import Redis
from tests.tasks.conftest import clean_redis

from trivium import App
from trivium.errors import ConfigurationError
from trivium.tasks import Retry
from trivium.tasks import TaskFailedError
from trivium.tasks import Tasks
from trivium.testing import AsyncTestClient

pytestmark = pytest.mark.anyio


def _app(url: str, prefix: str, seen: list[object], **options: object) -> tuple[App, Tasks]:
    tasks = Tasks(url, prefix=prefix, in_app_worker=True, **options)  # type: ignore[arg-type]
    app = App(plugins=[tasks])

    @tasks.task(name="record", keep_result=True, retry=Retry(max_attempts=2, delay=0.05))
    async def record(n: int) -> int:
        seen.append(n)
        if n < 0:
            raise ValueError("negative")
        return n * 2

    @tasks.task(name="slow")
    async def slow() -> None:
        await anyio.sleep(30)

    return app, tasks


async def test_runs_and_keeps_state_in_redis(redis_url: str, prefix: str) -> None:
    seen: list[object] = []
    app, tasks = _app(redis_url, prefix, seen)
    try:
        async with app.lifespan_context():
            run = await tasks.registry["record"].enqueue(4)
            assert await run.result(timeout=10) == 8
        # a second process (another Tasks on the same Redis) sees the state
        _, other = _app(redis_url, prefix, [])
        info = await other.get(run.id)
        assert info is not None
        assert info.state == "done"
        assert [i.id for i in await other.list()] == [run.id]
        await other.stop()
    finally:
        await clean_redis(redis_url, prefix)


async def test_failure_is_retried_then_failed_with_traceback(redis_url: str, prefix: str) -> None:
    seen: list[object] = []
    app, tasks = _app(redis_url, prefix, seen)
    try:
        async with app.lifespan_context():
            run = await tasks.registry["record"].enqueue(-1)
            with pytest.raises(TaskFailedError):
                await run.result(timeout=10)
            info = await run.info()
        assert seen == [-1, -1]
        assert info is not None
        assert info.attempts == 2
        assert info.traceback is not None
        assert "ValueError: negative" in info.traceback
    finally:
        await clean_redis(redis_url, prefix)


async def test_delayed_task_runs_once_with_two_workers(redis_url: str, prefix: str) -> None:
    seen: list[object] = []
    first, first_tasks = _app(redis_url, prefix, seen)
    second, _ = _app(redis_url, prefix, seen)
    try:
        async with first.lifespan_context(), second.lifespan_context():
            runs = [
                await first_tasks.registry["record"].options(countdown=0.3).enqueue(n)
                for n in range(10)
            ]
            for run in runs:
                await run.result(timeout=10)
            await anyio.sleep(0.5)
        assert sorted(seen) == list(range(10))  # type: ignore[type-var]
    finally:
        await clean_redis(redis_url, prefix)


async def test_enqueue_before_any_worker_is_not_lost(redis_url: str, prefix: str) -> None:
    seen: list[object] = []
    _, producer = _app(redis_url, prefix, [])
    run = await producer.registry["record"].enqueue(3)
    await producer.stop()
    app, worker = _app(redis_url, prefix, seen)
    try:
        async with app.lifespan_context():
            await _wait_done(worker, run.id)
        assert seen == [3]
    finally:
        await clean_redis(redis_url, prefix)


async def _wait_done(tasks: Tasks, task_id: str) -> None:
    with anyio.fail_after(10):
        while True:
            info = await tasks.get(task_id)
            if info is not None and info.state == "done":
                return
            await anyio.sleep(0.05)


async def test_cancel_reaches_a_task_running_on_another_worker(redis_url: str, prefix: str) -> None:
    app, tasks = _app(redis_url, prefix, [], lease=0.3)
    _, remote = _app(redis_url, prefix, [])
    try:
        async with app.lifespan_context():
            run = await tasks.registry["slow"].enqueue()
            with anyio.fail_after(10):
                while (info := await remote.get(run.id)) is None or info.state != "running":  # noqa: ASYNC110 - polls state kept in Redis
                    await anyio.sleep(0.05)
            assert await remote.cancel(run.id)
            with anyio.fail_after(10):
                while tasks.running:  # noqa: ASYNC110 - polls state kept in Redis
                    await anyio.sleep(0.05)
            info = await remote.get(run.id)
        assert info is not None
        assert info.state == "cancelled"
    finally:
        await remote.stop()
        await clean_redis(redis_url, prefix)


async def test_idempotency_key_is_shared_across_processes(redis_url: str, prefix: str) -> None:
    _, one = _app(redis_url, prefix, [])
    _, two = _app(redis_url, prefix, [])
    try:
        first = await one.registry["record"].options(key="k1").enqueue(1)
        second = await two.registry["record"].options(key="k1").enqueue(1)
        assert first.id == second.id
    finally:
        await one.stop()
        await two.stop()
        await clean_redis(redis_url, prefix)


def test_cli_lists_retries_and_cancels(redis_url: str, prefix: str) -> None:
    seen: list[object] = []
    app, tasks = _app(redis_url, prefix, seen)
    group = next(c for c in tasks.cli_commands() if c.name == "tasks")
    runner = CliRunner()

    async def fail_one() -> str:
        async with app.lifespan_context():
            run = await tasks.registry["record"].enqueue(-5)
            with pytest.raises(TaskFailedError):
                await run.result(timeout=10)
            return run.id

    try:
        failed = anyio.run(fail_one)
        listed = runner.invoke(group, ["list", "--state", "failed"])
        assert listed.exit_code == 0, listed.output
        assert failed in listed.output
        assert "ValueError: negative" in listed.output
        shown = runner.invoke(group, ["show", failed])
        assert "Traceback" in shown.output
        retried = runner.invoke(group, ["retry", failed])
        assert retried.exit_code == 0, retried.output
        assert anyio.run(_state, tasks, failed) == "queued"
        cancelled = runner.invoke(group, ["cancel", failed])
        assert "cancelled" in cancelled.output
        assert anyio.run(_state, tasks, failed) == "cancelled"
        missing = runner.invoke(group, ["retry", "nope"])
        assert missing.exit_code == 1
        assert "no task run" in missing.output
    finally:
        anyio.run(clean_redis, redis_url, prefix)


@pytest.mark.parametrize("command", ["show", "retry", "cancel"])
def test_cli_names_an_unknown_run_in_full(redis_url: str, prefix: str, command: str) -> None:
    _, tasks = _app(redis_url, prefix, [])
    group = next(c for c in tasks.cli_commands() if c.name == "tasks")
    missing = CliRunner().invoke(group, [command, "nope"])
    assert missing.exit_code == 1
    assert "Error: no task run 'nope'\n" in missing.output


async def test_result_that_cannot_be_kept_fails_once_not_redelivered(
    redis_url: str, prefix: str
) -> None:
    seen: list[object] = []
    app, tasks = _app(redis_url, prefix, seen, lease=0.5)

    @tasks.task(name="opaque", keep_result=True)
    async def opaque() -> object:
        seen.append("ran")
        return object()

    try:
        async with app.lifespan_context():
            run = await opaque.enqueue()
            with pytest.raises(TaskFailedError, match="cannot store as JSON"):
                await run.result(timeout=10)
            await anyio.sleep(1.5)  # past the lease: an unacknowledged message comes back
        assert seen == ["ran"]
    finally:
        await clean_redis(redis_url, prefix)


async def _state(tasks: Tasks, task_id: str) -> str | None:
    try:
        info = await tasks.get(task_id)
        return None if info is None else info.state
    finally:
        await tasks.stop()


def test_cli_refuses_the_memory_broker() -> None:
    tasks = Tasks()
    App(plugins=[tasks])
    runner = CliRunner()
    for command, args in zip(tasks.cli_commands(), (["-c", "2"], [], ["list"]), strict=True):
        result = runner.invoke(command, args)
        assert result.exit_code == 1
        assert "Redis" in result.output


async def test_two_schedulers_send_each_firing_once(redis_url: str, prefix: str) -> None:
    from trivium.tasks._schedule import run_scheduler

    schedulers = []
    for _ in range(2):
        tasks = Tasks(redis_url, prefix=prefix)
        App(plugins=[tasks])

        @tasks.periodic(every=1, name="tick")
        async def tick() -> None: ...

        schedulers.append(tasks)
    stopping = anyio.Event()
    try:
        async with anyio.create_task_group() as group:
            for tasks in schedulers:
                group.start_soon(run_scheduler, tasks, stopping)
            await anyio.sleep(2.6)
            stopping.set()
        runs = await schedulers[0].list()
        keys = [run.key for run in runs]
        assert len(keys) >= 2
        assert len(set(keys)) == len(keys)
    finally:
        for tasks in schedulers:
            await tasks.stop()
        await clean_redis(redis_url, prefix)


async def test_a_foreign_message_is_dropped_not_redelivered(redis_url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    seen: list[object] = []
    app, tasks = _app(redis_url, prefix, seen, lease=0.3)
    redis = Redis.from_url(redis_url)
    try:
        async with app.lifespan_context():
            await redis.xadd(f"{prefix}:queue:default", {b"data": b"not json"})
            run = await tasks.registry["record"].enqueue(2)
            assert await run.result(timeout=10) == 4
            await anyio.sleep(0.6)  # past the lease: nothing comes back
            pending = await redis.xpending(f"{prefix}:queue:default", "trivium")
        assert pending["pending"] == 0
        assert seen == [2]
    finally:
        await redis.aclose()
        await clean_redis(redis_url, prefix)


async def test_keep_below_a_second_still_keeps_state(redis_url: str, prefix: str) -> None:
    seen: list[object] = []
    app, tasks = _app(redis_url, prefix, seen, keep=0.5)
    try:
        async with app.lifespan_context():
            run = await tasks.registry["record"].options(key="once").enqueue(3)
            assert await run.result(timeout=10) == 6
            again = await tasks.registry["record"].options(key="once").enqueue(3)
            assert again.id == run.id  # the key is held for keep
            await anyio.sleep(0.8)
            assert await run.info() is None  # the finished run's state expired
    finally:
        await clean_redis(redis_url, prefix)


_DOWN = "redis://127.0.0.1:9149/0"  # nothing listens there


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("tasks", ["list"]),
        ("tasks", ["show", "abc"]),
        ("tasks", ["retry", "abc"]),
        ("tasks", ["cancel", "abc"]),
        ("worker", []),
        ("scheduler", []),
    ],
)
def test_cli_reports_an_unreachable_redis_in_one_line(command: str, args: list[str]) -> None:
    tasks = Tasks(_DOWN)
    App(plugins=[tasks])

    @tasks.periodic(every=60)
    async def tick() -> None: ...

    found = next(c for c in tasks.cli_commands() if c.name == command)
    result = CliRunner().invoke(found, args)
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: [tasks-unreachable] no Redis server answers at 127.0.0.1:9149 "
        "(for the task broker); start it"
    )
    assert result.output.count("\n") == 1


async def test_enqueue_with_redis_down_answers_503_with_retry_after() -> None:
    tasks = Tasks(_DOWN)
    app = App(plugins=[tasks])

    @tasks.task
    async def ping() -> None: ...

    @app.post("/go")
    async def go() -> dict[str, str]:
        return {"id": (await ping.enqueue()).id}

    client = AsyncTestClient(app)  # no lifespan: the first enqueue connects, as after a drop
    response = await client.post("/go")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "the task broker is unreachable" in response.text
    assert "9149" not in response.text  # the broker's address stays in the log


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/runs/abc"),
        ("GET", "/runs"),
        ("POST", "/runs/abc/retry"),
        ("POST", "/runs/abc/cancel"),
    ],
)
async def test_reading_or_controlling_runs_with_redis_down_answers_503(
    method: str, path: str
) -> None:
    tasks = Tasks(_DOWN)
    app = App(plugins=[tasks])

    @app.get("/runs/{run_id}")
    async def show(run_id: str) -> dict[str, str | None]:
        info = await tasks.get(run_id)
        return {"state": None if info is None else info.state}

    @app.get("/runs")
    async def runs() -> list[str]:
        return [info.id for info in await tasks.list()]

    @app.post("/runs/{run_id}/retry")
    async def again(run_id: str) -> dict[str, str]:
        return {"id": (await tasks.retry(run_id)).id}

    @app.post("/runs/{run_id}/cancel")
    async def stop(run_id: str) -> dict[str, bool]:
        return {"cancelled": await tasks.cancel(run_id)}

    client = AsyncTestClient(app)  # no lifespan: the state's Redis is dropped
    response = await client.request(method, path)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "9149" not in response.text


async def test_app_started_with_redis_down_fails_in_one_line() -> None:
    tasks = Tasks(_DOWN)
    app = App(plugins=[tasks])
    with pytest.raises(ConfigurationError) as caught:
        async with app.lifespan_context():
            pass  # pragma: no cover - the start-up fails
    assert caught.value.code == "tasks-unreachable"
    assert caught.value.one_line().startswith(
        "[tasks-unreachable] no Redis server answers at 127.0.0.1:9149 (for the task broker)"
    )


async def test_a_run_sent_twice_runs_once_while_two_workers_take_both(
    redis_url: str, prefix: str
) -> None:
    """An outbox row relayed twice (a crash between the send and the delete) sends one run
    twice: the second message waits out the first worker's hold, then is dropped."""
    seen: list[object] = []

    def worker() -> tuple[App, Tasks]:
        tasks = Tasks(redis_url, prefix=prefix, in_app_worker=True, lease=0.6)
        app = App(plugins=[tasks])

        @tasks.task(name="slow_count")
        async def slow_count(n: int) -> None:
            seen.append(n)
            await anyio.sleep(1.0)  # longer than the lease: the hold is renewed meanwhile

        return app, tasks

    _, producer = worker()
    run = await producer.registry["slow_count"].enqueue(7)
    stream = producer.transport.stream("default")  # type: ignore[attr-defined]
    await producer.stop()
    redis = Redis.from_url(redis_url)
    ((_, fields),) = await redis.xrange(stream)
    await redis.xadd(stream, fields)  # the same run, sent a second time
    first, first_tasks = worker()
    second, _ = worker()
    try:
        async with first.lifespan_context(), second.lifespan_context():
            await _wait_done(first_tasks, run.id)
            # the duplicate comes back after its lease, finds the run done, and is acked
            with anyio.fail_after(10):
                while (await redis.xpending(stream, "trivium"))["pending"]:  # noqa: ASYNC110
                    await anyio.sleep(0.1)
            await anyio.sleep(0.5)
        assert seen == [7]
    finally:
        await redis.aclose()
        await clean_redis(redis_url, prefix)
