"""Mistakes refused where they are made: bad schedules and policies at decoration, bad arguments at the call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trivium import App
from trivium.errors import ConfigurationError
from trivium.tasks import Retry
from trivium.tasks import Tasks

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


@pytest.mark.parametrize(
    ("cron", "says"),
    [
        ("60 * * * *", "the minute field: '60' is out of range; it takes 0-59"),
        ("* 25 * * *", "the hour field: '25' is out of range; it takes 0-23"),
        ("*/0 * * * *", "the minute field: the step of '*/0' must be a whole number, 1 or more"),
        ("0 3 32 13 8", "the day-of-month field: '32' is out of range; it takes 1-31"),
        ("0 3 1 13 *", "the month field: '13' is out of range; it takes 1-12"),
        ("0 3 * * 8", "the day-of-week field: '8' is out of range; it takes 0-6"),
        ("1-2-3 * * * *", "the minute field: '1-2-3' is not a value, a range or a step"),
        ("0 3 * * FRI-MON", "the range 'FRI-MON' runs backwards"),
    ],
)
def test_invalid_cron_field_is_refused_at_decoration(cron: str, says: str) -> None:
    tasks = Tasks()
    with pytest.raises(ConfigurationError, match="tasks-schedule") as refused:

        @tasks.periodic(cron=cron)
        async def job() -> None: ...

    assert says in str(refused.value)
    assert tasks.registry == {}


@pytest.mark.parametrize("cron", ["0 3 * * MON-FRI", "0,30 9-17 * 1,6 sun", "*/15  0-12/2 1 * *"])
def test_valid_cron_expressions_are_accepted(cron: str) -> None:
    tasks = Tasks()
    tasks.periodic(cron=cron)(lambda: None)
    assert tasks.periodic_tasks[0].cron == " ".join(cron.split())


def test_every_must_be_a_number_of_seconds() -> None:
    tasks = Tasks()
    with pytest.raises(ConfigurationError, match=r"tasks-schedule.*every='10' must be a number"):
        tasks.periodic(every="10")(lambda: None)  # type: ignore[arg-type]


def test_retry_on_takes_one_exception_class() -> None:
    policy = Retry(max_attempts=2, on=ValueError)
    assert policy.on == (ValueError,)
    assert policy.retries(1, ValueError("x"))
    assert not policy.retries(1, KeyError("x"))


@pytest.mark.parametrize(
    "options",
    [
        {"on": int},
        {"on": ()},
        {"on": "ValueError"},
        {"max_attempts": True},
        {"delay": "1"},
    ],
)
def test_bad_retry_policy_is_refused(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match="tasks-retry"):
        Retry(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("retry", [True, "3", 2.5])
def test_task_retry_must_be_a_policy_or_a_number_of_attempts(retry: object) -> None:
    tasks = Tasks()
    with pytest.raises(ConfigurationError, match=r"tasks-retry.*give a Retry\(\.\.\.\)"):
        tasks.task(retry=retry)(lambda: None)  # type: ignore[call-overload]


def _lines() -> Iterator[str]:
    yield "one"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (object(), "'object'"),
        (b"\xff", "'bytes'"),
        (_lines(), "'generator'"),
    ],
)
async def test_argument_that_cannot_be_json_is_refused_at_the_call(
    value: object, kind: str
) -> None:
    tasks = Tasks(eager=True)
    App(plugins=[tasks])
    seen: list[object] = []

    @tasks.task(name="keep")
    async def keep(item: object) -> None:
        seen.append(item)

    with pytest.raises(TypeError, match=f"task keep: argument 'item' of type {kind} cannot be"):
        await keep.enqueue(value)
    assert seen == []
    assert await tasks.list() == []


async def test_open_file_argument_is_refused_not_read(tmp_path: Path) -> None:
    tasks = Tasks(eager=True)
    App(plugins=[tasks])

    @tasks.task(name="keep")
    async def keep(item: object) -> None: ...

    path = tmp_path / "data.txt"
    path.write_text("first\nsecond\n")
    with path.open() as file:
        with pytest.raises(TypeError, match="argument 'item' of type 'TextIOWrapper'"):
            await keep.enqueue(file)
        assert file.readline() == "first\n"  # nothing was consumed


@pytest.mark.parametrize("every", [float("nan"), float("inf")])
def test_every_must_be_finite(every: float) -> None:
    tasks = Tasks()
    with pytest.raises(ConfigurationError, match=r"tasks-schedule.*at least 1 and finite"):
        tasks.periodic(every=every)(lambda: None)
    assert tasks.periodic_tasks == []


@pytest.mark.parametrize(
    ("cron", "says"),
    [
        ("0 \u00b2 * * *", "the hour field: '\u00b2' is not a number"),
        ("*/\u00b2 * * * *", "the step of '*/\u00b2' must be a whole number"),
        ("\u0663 * * * *", "the minute field: '\u0663' is not a number"),
    ],
)
def test_cron_digits_must_be_ascii(cron: str, says: str) -> None:
    tasks = Tasks()
    with pytest.raises(ConfigurationError, match="tasks-schedule") as refused:
        tasks.periodic(cron=cron)(lambda: None)
    assert says in str(refused.value)


def test_retry_delay_must_be_a_number() -> None:
    with pytest.raises(ConfigurationError, match="tasks-retry"):
        Retry(max_attempts=2, delay=float("nan"))


@pytest.mark.parametrize(
    "options",
    [
        {"concurrency": 2.5},
        {"concurrency": True},
        {"concurrency": 0},
        {"lease": 0.0001},
        {"lease": float("nan")},
        {"keep": float("nan")},
        {"keep": float("inf")},
        {"keep": 0},
    ],
)
def test_tasks_options_out_of_range_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Tasks(**options)  # type: ignore[arg-type]
    assert caught.value.code == "tasks-options"


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), 0, -1, True, "5"])
def test_task_timeout_must_be_finite_seconds(timeout: object) -> None:
    tasks = Tasks()
    with pytest.raises(ConfigurationError) as caught:

        @tasks.task(timeout=timeout)  # type: ignore[arg-type]
        async def job() -> None: ...

    assert caught.value.code == "tasks-options"
    assert tasks.registry == {}
