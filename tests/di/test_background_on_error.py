"""Background tasks run only when the request succeeds, as in FastAPI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from trivium import App
from trivium import BackgroundTasks
from trivium import Depends
from trivium import Header
from trivium import HTTPException
from trivium import Response
from trivium.testing import TestClient


def _note(events: list[str], text: str) -> None:
    events.append(text)


def test_background_tasks_do_not_run_when_the_handler_raises_http_exception() -> None:
    events: list[str] = []
    app = App()

    @app.get("/items/{item_id}")
    async def item(item_id: int, tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(_note, events, "task")
        raise HTTPException(404, "no such item")

    client = TestClient(app)
    assert client.get("/items/1").status_code == 404
    assert events == []


def test_background_tasks_do_not_run_after_an_unexpected_error() -> None:
    events: list[str] = []
    app = App()

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> None:
        tasks.add_task(_note, events, "task")
        raise RuntimeError("boom")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/").status_code == 500
    assert events == []


def test_background_tasks_of_a_dependency_do_not_run_after_a_validation_error() -> None:
    events: list[str] = []

    def authenticated(tasks: BackgroundTasks, x_user: Annotated[str, Header()]) -> str:
        tasks.add_task(_note, events, f"login {x_user}")
        return x_user

    app = App()

    @app.get("/")
    async def index(page: int, user: str = Depends(authenticated)) -> str:
        return user

    client = TestClient(app)
    assert client.get("/?page=x", headers={"x-user": "ann"}).status_code == 422
    assert events == []
    assert client.get("/?page=1", headers={"x-user": "ann"}).status_code == 200
    assert events == ["login ann"]


def test_background_tasks_do_not_run_when_a_function_scoped_commit_fails() -> None:
    events: list[str] = []

    def transaction() -> Iterator[str]:
        yield "tx"
        raise HTTPException(409, "conflict")  # the commit fails

    app = App()

    @app.post("/")
    async def create(
        tasks: BackgroundTasks, tx: str = Depends(transaction, scope="function")
    ) -> str:
        tasks.add_task(_note, events, "email")
        return tx

    client = TestClient(app)
    response = client.post("/")
    assert response.status_code == 409
    assert events == []


def test_background_of_a_returned_response_is_dropped_when_the_commit_fails() -> None:
    events: list[str] = []

    def transaction() -> Iterator[str]:
        yield "tx"
        raise HTTPException(409, "conflict")

    app = App()

    @app.post("/")
    async def create(tx: str = Depends(transaction, scope="function")) -> Response:
        tasks = BackgroundTasks()
        tasks.add_task(_note, events, "email")
        return Response(tx, background=tasks)

    client = TestClient(app)
    assert client.post("/").status_code == 409
    assert events == []


def test_background_tasks_run_when_the_request_succeeds() -> None:
    events: list[str] = []
    app = App()

    @app.get("/")
    async def index(tasks: BackgroundTasks) -> Response:
        tasks.add_task(_note, events, "injected")
        own = BackgroundTasks()
        own.add_task(_note, events, "returned")
        return Response("ok", background=own)

    client = TestClient(app)
    assert client.get("/").text == "ok"
    assert events == ["returned", "injected"]
