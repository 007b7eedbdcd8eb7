"""A background task that fails reaches the request-scoped dependencies, as in FastAPI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trivium import App
from trivium import BackgroundTasks
from trivium import Depends
from trivium.testing import TestClient


def make_app(events: list[str]) -> App:
    def get_db() -> Iterator[str]:
        events.append("db:enter")
        try:
            yield "db"
        except Exception as exc:
            events.append(f"db:rollback:{type(exc).__name__}")
            raise
        else:
            events.append("db:commit")

    def failing_task() -> None:
        events.append("task:start")
        raise RuntimeError("smtp down")

    app = App()

    @app.post("/fails")
    def fails(tasks: BackgroundTasks, db: str = Depends(get_db)) -> dict[str, bool]:
        tasks.add_task(failing_task)
        return {"ok": True}

    @app.post("/works")
    def works(tasks: BackgroundTasks, db: str = Depends(get_db)) -> dict[str, bool]:
        tasks.add_task(events.append, "task:done")
        return {"ok": True}

    return app


def test_a_failing_background_task_rolls_the_request_scoped_dependency_back() -> None:
    events: list[str] = []
    client = TestClient(make_app(events), raise_server_exceptions=False)
    response = client.post("/fails")
    assert response.status_code == 200  # the answer went out before the task ran
    assert events == ["db:enter", "task:start", "db:rollback:RuntimeError"]


def test_the_failure_reaches_the_test_client() -> None:
    with pytest.raises(RuntimeError, match="smtp down"):
        TestClient(make_app([])).post("/fails")


def test_a_task_that_succeeds_lets_the_dependency_commit() -> None:
    events: list[str] = []
    assert TestClient(make_app(events)).post("/works").status_code == 200
    assert events == ["db:enter", "task:done", "db:commit"]
