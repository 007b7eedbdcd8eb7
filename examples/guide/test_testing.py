"""The testing patterns of docs/testing.md, run against the demo app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.todos.app import app
from examples.todos.store import TodoStore
from examples.todos.store import Transaction
from examples.todos.store import open_store
from examples.todos.store import transaction
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient


# --8<-- [start:fixture]
@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as client:  # runs the lifespan (start-up, then shutdown)
        yield client


# --8<-- [end:fixture]


# --8<-- [start:override]
def test_override_a_dependency(client: TestClient) -> None:
    app.dependency_overrides[open_store] = TodoStore  # an empty store, not the seeded one
    try:
        assert client.get("/todos").json() == []
    finally:
        app.dependency_overrides.clear()
    assert len(client.get("/todos").json()) == 3


# --8<-- [end:override]


# --8<-- [start:async]
@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_with_the_async_client() -> None:
    async with AsyncTestClient(app) as client:
        response = await client.post("/todos", json={"title": "Async"})
        assert response.status_code == 201
        async with client.websocket_connect("/ws/echo") as websocket:
            await websocket.send_text("hi")
            assert await websocket.receive_text() == "echo: hi"


# --8<-- [end:async]


# --8<-- [start:errors]
def test_a_crash_reaches_the_test_or_becomes_a_500(client: TestClient) -> None:
    def broken() -> Transaction:
        raise RuntimeError("database is down")

    app.dependency_overrides[transaction] = broken
    try:
        with pytest.raises(RuntimeError, match="database is down"):
            client.get("/todos")  # by default the exception reaches the test
        quiet = TestClient(app, raise_server_exceptions=False)
        response = quiet.get("/todos")  # what a real client would see
        assert response.status_code == 500
        assert response.json() == {"detail": "Internal Server Error"}
    finally:
        app.dependency_overrides.clear()


# --8<-- [end:errors]
