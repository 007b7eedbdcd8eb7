"""Tasks on the in-memory broker: sent from handlers, run by the app's in-process worker."""

from __future__ import annotations

import datetime
import threading
from collections.abc import AsyncIterator
from typing import Annotated
from typing import Any

import anyio
import pytest

from trivium import App
from trivium import Depends
from trivium.errors import ConfigurationError
from trivium.tasks import Retry
from trivium.tasks import TaskFailedError
from trivium.tasks import Tasks
from trivium.testing import AsyncTestClient

pytestmark = pytest.mark.anyio


RESOURCE: list[str] = []


def greeting() -> str:
    return "hello"


def client_name() -> str:
    return "real"


async def resource() -> AsyncIterator[list[str]]:
    RESOURCE.clear()
    RESOURCE.append("open")
    yield RESOURCE
    RESOURCE.append("close")


def make() -> tuple[App, Tasks, list[object]]:
    tasks = Tasks()
    app = App(plugins=[tasks])
    return app, tasks, []


async def test_handler_enqueues_and_worker_runs_with_injection() -> None:
    app, tasks, seen = make()

    @tasks.task(keep_result=True)
    async def greet(name: str, word: Annotated[str, Depends(greeting)]) -> str:
        seen.append(name)
        return f"{word} {name}"

    @app.post("/greet/{name}")
    async def endpoint(name: str) -> dict[str, str]:
        run = await greet.enqueue(name)
        return {"id": run.id}

    async with AsyncTestClient(app) as client:
        response = await client.post("/greet/ada")
        await tasks.drain()
        info = await tasks.get(response.json()["id"])
    assert seen == ["ada"]
    assert info is not None
    assert (info.state, info.result, info.attempts) == ("done", "hello ada", 1)


async def test_dependency_overrides_apply_to_tasks() -> None:
    app, tasks, seen = make()

    @tasks.task
    async def job(name: Annotated[str, Depends(client_name)]) -> None:
        seen.append(name)

    app.dependency_overrides[client_name] = lambda: "fake"
    async with app.lifespan_context():
        await job.enqueue()
        await tasks.drain()
    assert seen == ["fake"]


async def test_generator_dependency_is_torn_down_after_the_task() -> None:
    app, tasks, seen = make()

    @tasks.task
    async def job(r: Annotated[list[str], Depends(resource)]) -> None:
        r.append("r")

    async with app.lifespan_context():
        await job.enqueue()
        await tasks.drain()
    assert RESOURCE == ["open", "r", "close"]


async def test_sync_task_runs_in_a_thread() -> None:
    app, tasks, seen = make()
    import threading

    @tasks.task
    def job(n: int) -> None:
        seen.append((n, threading.current_thread() is threading.main_thread()))

    async with app.lifespan_context():
        await job.enqueue(3)
        await tasks.drain()
    assert seen == [(3, False)]


async def test_arguments_are_validated_against_annotations() -> None:
    app, tasks, seen = make()

    @tasks.task
    async def job(when: datetime.datetime, count: int = 1) -> None:
        seen.append((when, count))

    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    async with app.lifespan_context():
        await job.enqueue(moment, count=2)
        await tasks.drain()
    assert seen == [(moment, 2)]


async def test_wrong_arguments_fail_at_enqueue() -> None:
    app, tasks, _ = make()

    @tasks.task
    async def job(n: int) -> None: ...

    async with app.lifespan_context():
        with pytest.raises(TypeError, match="job"):
            await job.enqueue(1, 2)  # type: ignore[call-arg]


async def test_failure_is_retried_with_backoff_then_done() -> None:
    app, tasks, seen = make()

    @tasks.task(retry=Retry(max_attempts=3, delay=0.01, on=(ConnectionError,)))
    async def flaky() -> None:
        seen.append(1)
        if len(seen) < 3:
            raise ConnectionError("down")

    async with app.lifespan_context():
        run = await flaky.enqueue()
        await run.result(timeout=5)
        info = await run.info()
    assert info is not None
    assert (info.state, info.attempts, len(seen)) == ("done", 3, 3)


async def test_exception_outside_retry_on_fails_at_once_with_traceback() -> None:
    app, tasks, seen = make()

    @tasks.task(retry=Retry(max_attempts=5, delay=0.01, on=(ConnectionError,)))
    async def broken() -> None:
        seen.append(1)
        raise ValueError("bad input")

    async with app.lifespan_context():
        run = await broken.enqueue()
        with pytest.raises(TaskFailedError, match="bad input"):
            await run.result(timeout=5)
        info = await run.info()
    assert info is not None
    assert info.state == "failed"
    assert len(seen) == 1
    assert info.traceback is not None
    assert "ValueError: bad input" in info.traceback


async def test_last_attempt_failure_marks_failed() -> None:
    app, tasks, seen = make()

    @tasks.task(retry=2)
    async def broken() -> None:
        seen.append(1)
        raise RuntimeError("always")

    async with app.lifespan_context():
        run = await broken.enqueue()
        with pytest.raises(TaskFailedError):
            await run.result(timeout=10)
    assert len(seen) == 2


async def test_timeout_fails_the_attempt() -> None:
    app, tasks, _ = make()

    @tasks.task(timeout=0.05)
    async def slow() -> None:
        await anyio.sleep(10)

    async with app.lifespan_context():
        run = await slow.enqueue()
        with pytest.raises(TaskFailedError, match="TimeoutError"):
            await run.result(timeout=5)


async def test_timeout_error_says_the_attempt_exceeded_the_timeout() -> None:
    app, tasks, _ = make()

    @tasks.task(timeout=0.05)
    async def slow() -> None:
        await anyio.sleep(10)

    async with app.lifespan_context():
        run = await slow.enqueue()
        await tasks.drain()
        info = await run.info()
    assert info is not None
    assert info.error == "TimeoutError: attempt exceeded the task's timeout of 0.05 s"


async def test_sync_task_timeout_fails_on_time_and_ignores_the_late_result() -> None:
    app, tasks, seen = make()
    release = threading.Event()

    @tasks.task(timeout=0.1, keep_result=True)
    def stuck() -> str:
        release.wait(5)
        seen.append("returned")
        return "late"

    async with app.lifespan_context():
        run = await stuck.enqueue()
        with anyio.fail_after(2), pytest.raises(TaskFailedError, match="timeout of 0.1 s"):
            await run.result(timeout=10)
        release.set()
        with anyio.fail_after(5):
            while not seen:  # noqa: ASYNC110 - waits for the abandoned thread to return
                await anyio.sleep(0.01)
        await anyio.sleep(0.05)
        info = await run.info()
    assert info is not None
    assert (info.state, info.result, info.attempts) == ("failed", None, 1)


async def test_result_that_cannot_be_kept_fails_the_run_once() -> None:
    app, tasks, seen = make()

    @tasks.task(keep_result=True, retry=3)
    async def opaque() -> object:
        seen.append(1)
        return {"handle": object()}

    async with app.lifespan_context():
        run = await opaque.enqueue()
        with anyio.fail_after(5), pytest.raises(TaskFailedError) as failed:
            await run.result()
    info = failed.value.info
    assert (info.state, info.attempts, info.result) == ("failed", 1, None)
    assert info.error is not None
    assert info.error.startswith(f"TypeError: task {opaque.name} returned a value of type 'dict'")
    assert "<class 'object'>" in info.error
    assert seen == [1]


async def test_eager_result_that_cannot_be_kept_fails_the_run() -> None:
    tasks = Tasks(eager=True)
    App(plugins=[tasks])

    @tasks.task(keep_result=True)
    async def opaque() -> object:
        return object()

    run = await opaque.enqueue()
    info = await run.info()
    assert info is not None
    assert info.state == "failed"
    assert "keep_result=True cannot store as JSON" in (info.error or "")


async def _done(run: Any) -> bool:
    info = await run.info()
    return info is not None and info.state == "done"


async def test_run_sent_to_a_queue_no_task_declares_runs_in_memory() -> None:
    app, tasks, seen = make()

    @tasks.task
    async def resize(photo: int) -> None:
        seen.append(photo)

    async with app.lifespan_context():
        run = await resize.options(queue="images").enqueue(7)
        delayed = await resize.options(queue="thumbnails", countdown=0.05).enqueue(8)
        await tasks.drain(timeout=3)
        with anyio.fail_after(3):
            # A run is done once its state says so (the task body returns a moment
            # before the worker records it).
            while not (await _done(run) and await _done(delayed)):  # noqa: ASYNC110 - polls state
                await anyio.sleep(0.01)
        info = await run.info()
        late = await delayed.info()
    assert seen == [7, 8]
    assert info is not None
    assert late is not None
    assert (info.state, info.queue, late.state, late.queue) == (
        "done",
        "images",
        "done",
        "thumbnails",
    )


async def test_countdown_delays_the_run() -> None:
    app, tasks, seen = make()

    @tasks.task
    async def later() -> None:
        seen.append(1)

    async with app.lifespan_context():
        run = await later.options(countdown=0.2).enqueue()
        info = await run.info()
        assert info is not None
        assert info.state == "queued"
        assert info.eta is not None
        await tasks.drain()
        assert seen == []
        await run.result(timeout=5)
    assert seen == [1]


async def test_at_must_be_aware() -> None:
    _, tasks, _ = make()

    @tasks.task
    async def later() -> None: ...

    with pytest.raises(TypeError, match="aware"):
        later.options(at=datetime.datetime(2030, 1, 1))  # noqa: DTZ001 - the misuse tested


async def test_idempotency_key_sends_one_run() -> None:
    app, tasks, seen = make()

    @tasks.task
    async def charge(order: int) -> None:
        seen.append(order)

    async with app.lifespan_context():
        first = await charge.options(key="order-7").enqueue(7)
        second = await charge.options(key="order-7").enqueue(7)
        await tasks.drain()
    assert first.id == second.id
    assert seen == [7]


async def test_cancel_queued_run_never_runs() -> None:
    app, tasks, seen = make()

    @tasks.task
    async def job() -> None:
        seen.append(1)

    async with app.lifespan_context():
        run = await job.options(countdown=0.2).enqueue()
        assert await tasks.cancel(run.id)
        await anyio.sleep(0.4)
        await tasks.drain()
        info = await run.info()
    assert seen == []
    assert info is not None
    assert info.state == "cancelled"


async def test_cancel_running_run_stops_it() -> None:
    app, tasks, seen = make()
    started = anyio.Event()

    @tasks.task
    async def job() -> None:
        started.set()
        await anyio.sleep(30)
        seen.append("finished")

    async with app.lifespan_context():
        run = await job.enqueue()
        await started.wait()
        assert await tasks.cancel(run.id)
        await tasks.drain()
        info = await run.info()
    assert seen == []
    assert info is not None
    assert info.state == "cancelled"


async def test_retry_by_id_runs_a_failed_run_again() -> None:
    app, tasks, seen = make()

    @tasks.task
    async def job(n: int) -> None:
        seen.append(n)
        if len(seen) == 1:
            raise RuntimeError("first time")

    async with app.lifespan_context():
        run = await job.enqueue(5)
        await tasks.drain()
        assert (await tasks.list(state="failed"))[0].id == run.id
        again = await tasks.retry(run.id)
        await again.result(timeout=5)
        with pytest.raises(ValueError, match="only failed or cancelled"):
            await tasks.retry(run.id)
        with pytest.raises(LookupError):
            await tasks.retry("nope")
    assert seen == [5, 5]


async def test_eager_runs_inline() -> None:
    tasks = Tasks(eager=True)
    app = App(plugins=[tasks])
    seen: list[int] = []

    @tasks.task(retry=Retry(max_attempts=2, delay=0))
    async def job(n: int) -> None:
        seen.append(n)
        if len(seen) == 1:
            raise RuntimeError("once")

    @app.post("/go")
    async def go() -> dict[str, object]:
        run = await job.enqueue(1)
        info = await run.info()
        return {"seen": list(seen), "state": info.state if info else None}

    async with AsyncTestClient(app) as client:
        response = await client.post("/go")
    assert response.json() == {"seen": [1, 1], "state": "done"}


async def test_eager_retry_is_logged_as_at_once(caplog: pytest.LogCaptureFixture) -> None:
    tasks = Tasks(eager=True)
    App(plugins=[tasks])
    seen: list[int] = []

    @tasks.task(retry=Retry(max_attempts=2, delay=4.0))
    async def job() -> None:
        seen.append(1)
        if len(seen) == 1:
            raise RuntimeError("once")

    with caplog.at_level("WARNING", logger="trivium.tasks"), anyio.fail_after(2):
        run = await job.enqueue()  # the second attempt runs now, not 4 s later
    info = await run.info()
    assert info is not None
    assert (info.state, info.attempts) == ("done", 2)
    assert "failed, retrying at once (eager mode): RuntimeError: once" in caplog.text
    assert "retrying in" not in caplog.text


def test_unknown_broker_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="tasks-broker"):
        Tasks("kafka://localhost")


def test_duplicate_task_names_are_refused() -> None:
    tasks = Tasks()

    @tasks.task(name="x")
    async def one() -> None: ...

    with pytest.raises(ConfigurationError, match="tasks-duplicate-name"):

        @tasks.task(name="x")
        async def two() -> None: ...


def test_var_arguments_are_refused() -> None:
    tasks = Tasks()
    with pytest.raises(ConfigurationError, match="tasks-signature"):

        @tasks.task
        async def job(*args: int) -> None: ...


def test_bad_retry_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="tasks-retry"):
        Retry(max_attempts=0)


def test_backoff_grows_and_is_capped() -> None:
    policy = Retry(max_attempts=10, delay=1, max_delay=5, jitter=False)
    assert [policy.wait(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    jittered = Retry(max_attempts=10, delay=4)
    assert all(2 <= jittered.wait(1) <= 4 for _ in range(50))


def test_calling_a_task_calls_the_function() -> None:
    tasks = Tasks()

    @tasks.task
    def add(a: int, b: int) -> int:
        return a + b

    assert add(1, 2) == 3


async def test_periodic_interval_task_fires_each_slot() -> None:
    app, tasks, seen = make()

    @tasks.periodic(every=1)
    async def tick(word: Annotated[str, Depends(greeting)]) -> None:
        seen.append(word)

    async with app.lifespan_context():
        with anyio.fail_after(5):
            while len(seen) < 2:  # noqa: ASYNC110 - waits for the scheduler's firings
                await anyio.sleep(0.05)
    assert seen[:2] == ["hello", "hello"]


def test_periodic_needs_one_valid_schedule() -> None:
    tasks = Tasks()
    for options in ({}, {"every": 5, "cron": "* * * * *"}, {"cron": "every day"}, {"every": 0.1}):
        with pytest.raises(ConfigurationError, match="tasks-schedule"):
            tasks.periodic(**options)(lambda: None)  # type: ignore[arg-type]


def test_periodic_task_takes_no_arguments() -> None:
    tasks = Tasks()
    with pytest.raises(ConfigurationError, match="tasks-periodic-arguments"):

        @tasks.periodic(cron="0 3 * * *")
        async def nightly(day: int) -> None: ...

    assert tasks.registry == {}


def test_cron_slot_matches_by_minute() -> None:
    tasks = Tasks()

    @tasks.periodic(cron="*/5 * * * *")
    async def every_five() -> None: ...

    periodic = tasks.periodic_tasks[0]
    start = datetime.datetime(2026, 1, 1, 0, 5, tzinfo=datetime.UTC).timestamp()
    assert periodic.slot(start + 30) == int(start // 60)
    assert periodic.slot(start + 60) is None


async def test_redacted_arguments_stay_out_of_the_state() -> None:
    app, tasks, seen = make()

    @tasks.task(redact=("token",))
    async def mail(to: str, token: str) -> None:
        seen.append(token)
        raise RuntimeError("smtp down")

    async with app.lifespan_context():
        run = await mail.enqueue("ada@example.com", "s3cret")
        await tasks.drain()
        info = await run.info()
        assert info is not None
        with pytest.raises(ValueError, match="redacted"):
            await tasks.retry(run.id)
    assert seen == ["s3cret"]
    assert info.kwargs == {"to": "ada@example.com", "token": "[redacted]"}
    assert "s3cret" not in info.to_json().decode()


def test_redact_must_name_arguments() -> None:
    tasks = Tasks()
    with pytest.raises(ConfigurationError, match="tasks-redact"):

        @tasks.task(redact=("password",))
        async def mail(to: str) -> None: ...
