"""`functools.partial` of async and generator functions, as dependencies and tasks."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from collections.abc import Iterator

from trivium import App
from trivium import BackgroundTasks
from trivium import Depends
from trivium.testing import TestClient


async def _double(n: int) -> int:
    return n * 2


def _counted(events: list[str], n: int) -> Iterator[int]:
    events.append("open")
    yield n
    events.append("close")


async def _counted_async(events: list[str], n: int) -> AsyncIterator[int]:
    events.append("open")
    yield n
    events.append("close")


async def _notify(events: list[str], who: str) -> None:
    events.append(f"notify {who}")


def test_partial_of_an_async_function_is_awaited_as_a_dependency() -> None:
    app = App()

    @app.get("/")
    async def index(n: int = Depends(functools.partial(_double, 4))) -> int:
        return n

    assert TestClient(app).get("/").json() == 8


def test_partial_of_a_generator_is_a_yield_dependency() -> None:
    events: list[str] = []
    app = App()

    @app.get("/")
    async def index(n: int = Depends(functools.partial(_counted, events, 4))) -> int:
        events.append(f"handler {n}")
        return n

    assert TestClient(app).get("/").json() == 4
    assert events == ["open", "handler 4", "close"]


def test_partial_of_an_async_generator_is_a_yield_dependency() -> None:
    events: list[str] = []
    app = App()

    @app.get("/")
    async def index(
        n: int = Depends(functools.partial(functools.partial(_counted_async, events), 5)),
    ) -> int:
        events.append(f"handler {n}")
        return n

    assert TestClient(app).get("/").json() == 5
    assert events == ["open", "handler 5", "close"]


def test_partial_of_an_async_function_runs_as_a_background_task() -> None:
    events: list[str] = []
    app = App()

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> str:
        tasks.add_task(functools.partial(_notify, events, "ann"))
        return "ok"

    assert TestClient(app).get("/").text == '"ok"'
    assert events == ["notify ann"]
