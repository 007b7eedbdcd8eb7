"""Micro-batching and app-scoped models: grouping, errors, cancellation, executors."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from tests.ai import batch_models

from trivium import App
from trivium.ai import BatchError
from trivium.ai import Model
from trivium.ai import ModelLoadError
from trivium.ai import ModelNotLoadedError
from trivium.ai import batched
from trivium.errors import ConfigurationError
from trivium.testing import AsyncTestClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_concurrent_calls_share_batches_and_get_their_own_results() -> None:
    sizes: list[int] = []

    @batched(max_size=16, max_wait_ms=20)
    async def double(values: list[int]) -> list[int]:
        sizes.append(len(values))
        return [value * 2 for value in values]

    results = await asyncio.gather(*(double(n) for n in range(50)))
    assert results == [n * 2 for n in range(50)]
    assert sizes == [16, 16, 16, 2]
    assert double.batcher.batches == 4  # type: ignore[attr-defined]
    assert await double(7) == 14  # a lone call goes after max_wait_ms


async def test_an_error_of_the_batch_reaches_every_caller_of_it() -> None:
    @batched(max_size=8, max_wait_ms=10)
    async def broken(values: list[int]) -> list[int]:
        raise ValueError("model exploded")

    outcomes = await asyncio.gather(*(broken(n) for n in range(3)), return_exceptions=True)
    assert [str(outcome) for outcome in outcomes] == ["model exploded"] * 3


async def test_an_error_for_one_input_reaches_its_caller_only() -> None:
    @batched(max_size=8, max_wait_ms=10)
    async def invert(values: list[int]) -> list[Any]:
        return [ZeroDivisionError("no inverse of 0") if v == 0 else 1 / v for v in values]

    outcomes = await asyncio.gather(*(invert(n) for n in (2, 0, 4)), return_exceptions=True)
    assert outcomes[0] == 0.5
    assert isinstance(outcomes[1], ZeroDivisionError)
    assert outcomes[2] == 0.25


async def test_a_batch_function_with_the_wrong_number_of_results_is_an_error() -> None:
    @batched(max_size=8, max_wait_ms=10)
    async def short(values: list[int]) -> list[int]:
        return values[:1]

    outcomes = await asyncio.gather(*(short(n) for n in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, BatchError) for outcome in outcomes)
    assert "returned 1 results for 3 inputs" in str(outcomes[0])


async def test_a_cancelled_caller_leaves_the_batch_and_the_others_go_on() -> None:
    seen: list[list[int]] = []

    @batched(max_size=8, max_wait_ms=50)
    async def echo(values: list[int]) -> list[int]:
        seen.append(list(values))
        return values

    first = asyncio.ensure_future(echo(1))
    gone = asyncio.ensure_future(echo(2))
    third = asyncio.ensure_future(echo(3))
    await asyncio.sleep(0)
    gone.cancel()  # the client left before the batch started
    assert await first == 1
    assert await third == 3
    assert seen == [[1, 3]]
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_one_batch_runs_at_a_time_unless_more_are_allowed() -> None:
    for allowed in (1, 3):
        running = peak = 0

        @batched(max_size=2, max_wait_ms=1, max_concurrent_batches=allowed)
        async def slow(values: list[int]) -> list[int]:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.05)
            running -= 1
            return values

        assert await asyncio.gather(*(slow(n) for n in range(6))) == list(range(6))
        assert (allowed, slow.batcher.batches, peak) == (allowed, 3, allowed)  # type: ignore[attr-defined]


async def test_a_cancelled_collector_cancels_the_batches_under_way() -> None:
    started = asyncio.Event()

    @batched(max_size=1, max_wait_ms=0, max_concurrent_batches=2)
    async def stuck(values: list[int]) -> list[int]:
        started.set()
        await asyncio.sleep(60)
        return values

    # Two batches run, the third waits for a slot; the collecting task (cancelled as
    # when the loop shuts down) takes every caller with it.
    callers = [asyncio.ensure_future(stuck(n)) for n in range(3)]
    await started.wait()
    await asyncio.sleep(0.01)
    (state,) = stuck.batcher._loops.values()  # type: ignore[attr-defined]
    assert len(state.running) == 2
    state.task.cancel()
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)


def test_closed_event_loops_are_forgotten() -> None:
    @batched(max_size=4, max_wait_ms=0)
    async def same(values: list[int]) -> list[int]:
        return values

    for n in range(20):  # asyncio.run per call: a new loop each time
        assert asyncio.run(same(n)) == n
    assert len(same.batcher._loops) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"max_size": 0}, "max_size"),
        ({"max_wait_ms": -1}, "max_wait_ms"),
        ({"max_size": True}, "max_size"),
        ({"max_concurrent_batches": 0}, "max_concurrent_batches"),
    ],
)
def test_bad_batch_options_are_refused(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment) as caught:
        batched(**options)(_noop_batch)
    assert caught.value.code == "ai-batch-option"


def test_a_sync_batch_function_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="async function"):
        batched()(lambda values: values)  # type: ignore[arg-type]


async def _noop_batch(values: list[int]) -> list[int]:
    return values


@pytest.mark.parametrize("executor", ["thread", "loop", "process"])
async def test_a_model_is_loaded_once_at_start_up_and_run_on_its_executor(executor: str) -> None:
    model = Model(batch_models.load, executor=executor, workers=2 if executor == "process" else 1)  # type: ignore[arg-type]
    app = App(plugins=[model])

    @app.post("/scale")
    async def scale(values: list[int]) -> list[int]:
        return await model.run(batch_models.scale, values)

    @app.get("/pid")
    async def pid() -> int:
        return await model.run(batch_models.where)

    with pytest.raises(ModelNotLoadedError, match="install the Model"):
        await model.run(batch_models.scale, [1])
    async with AsyncTestClient(app) as client:
        assert (await client.post("/scale", json=[1, 2])).json() == [3, 6]
        pids = {(await client.get("/pid")).json() for _ in range(4)}
        if executor == "process":
            assert os.getpid() not in pids
            assert model.executor == "process"
            with pytest.raises(ModelNotLoadedError, match="pool's processes"):
                _ = model.instance
        else:
            assert pids == {os.getpid()}
            assert model.instance["factor"] == 3
    with pytest.raises(ModelNotLoadedError):
        _ = model.instance


@pytest.mark.parametrize("options", [{"executor": "gpu"}, {"workers": 0}, {"workers": "2"}])
def test_bad_model_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Model(batch_models.load, **options)
    assert caught.value.code == "ai-model-option"


async def test_a_pool_process_dying_fails_its_call_with_503_and_the_pool_recovers() -> None:
    model = Model(batch_models.load, executor="process", workers=2)
    app = App(plugins=[model])

    @app.post("/scale")
    async def scale(values: list[int]) -> list[int]:
        return await model.run(batch_models.scale, values)

    @app.post("/die")
    async def die() -> None:
        await model.run(batch_models.die)

    async with AsyncTestClient(app) as client:
        assert (await client.post("/scale", json=[1])).json() == [3]
        crashed = await client.post("/die")
        assert crashed.status_code == 503
        assert "a pool process died" in crashed.json()["detail"]
        assert crashed.headers["retry-after"] == "1"
        for _ in range(3):  # the next calls run on a new pool (it answered 500 for ever)
            assert (await client.post("/scale", json=[2])).json() == [6]


@pytest.mark.parametrize("executor", ["thread", "loop", "process"])
async def test_a_failing_load_stops_the_start_up_naming_the_model(executor: str) -> None:
    model = Model(batch_models.broken_load, executor=executor)  # type: ignore[arg-type]
    app = App(plugins=[model])
    with pytest.raises(ModelLoadError, match="model 'broken_load' failed to load") as caught:
        async with AsyncTestClient(app):
            pass
    if executor == "process":
        assert "traceback is in that process's output" in str(caught.value)
    else:
        assert "FileNotFoundError: model.joblib" in str(caught.value)
        assert isinstance(caught.value.__cause__, FileNotFoundError)
    with pytest.raises(ModelNotLoadedError):
        await model.run(batch_models.scale, [1])
