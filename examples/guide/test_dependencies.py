from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.guide import dependencies
from examples.guide.dependencies import app
from examples.guide.dependencies import current_user
from trivium import App
from trivium import Depends
from trivium.errors import ConfigurationError
from trivium.testing import TestClient

ANN = {"x-user": "ann"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    dependencies.events.clear()
    with TestClient(app) as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_class_and_function_dependencies(client: TestClient) -> None:
    response = client.get("/books", params={"offset": 5}, headers=ANN)
    assert response.json() == {"user": "ann", "offset": 5, "limit": 10, "tx": "tx on pool-1"}


def test_dependency_parameters_are_validated(client: TestClient) -> None:
    response = client.get("/books", params={"limit": 0}, headers=ANN)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_dependency_can_refuse_the_request(client: TestClient) -> None:
    response = client.get("/books")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "X-User"


def test_teardown_order_on_success(client: TestClient) -> None:
    client.post("/books/7/loan", headers=ANN)
    assert dependencies.events == [
        "connect",
        "begin",
        "commit",
        "email ann about book 7",
        "audit ann",
    ]


def test_handler_error_reaches_the_generator(client: TestClient) -> None:
    response = client.post("/books/404/loan", headers=ANN)
    assert response.status_code == 404
    assert dependencies.events == ["connect", "begin", "rollback", "audit ann"]


def test_app_scoped_dependency_is_shared_and_closed_at_shutdown() -> None:
    dependencies.events.clear()
    with TestClient(app) as client:
        client.get("/books", headers=ANN)
        client.get("/books", headers=ANN)
        assert dependencies.events.count("connect") == 1
        assert "disconnect" not in dependencies.events
    assert dependencies.events[-1] == "disconnect"


def test_values_are_cached_per_request_unless_asked(client: TestClient) -> None:
    assert client.get("/tokens", headers=ANN).json() == {"a is b": True, "a is c": False}


def test_overrides_replace_a_dependency(client: TestClient) -> None:
    app.dependency_overrides[current_user] = lambda: "test-user"
    try:
        assert client.get("/books").json()["user"] == "test-user"
    finally:
        app.dependency_overrides.clear()
    assert client.get("/books").status_code == 401


@pytest.mark.anyio
async def test_resolve_outside_a_request() -> None:
    dependencies.events.clear()
    assert await dependencies.main() == "pool-1"
    assert dependencies.events == ["connect", "disconnect"]


def test_dependency_cycle_is_a_configuration_error() -> None:
    def first(value: object = None) -> object:
        return value

    def second(value: object = Depends(first)) -> object:
        return value

    first.__defaults__ = (Depends(second),)
    bad = App()
    bad.add_route("/", lambda value=Depends(first): value)
    with pytest.raises(ConfigurationError, match=r"\[dependency-cycle\]"):
        bad.build()


def test_app_scope_cannot_depend_on_the_request() -> None:
    bad = App()
    bad.add_route("/", lambda user=Depends(current_user, scope="app"): user)
    with pytest.raises(ConfigurationError, match=r"\[app-scope-request-param\]"):
        bad.build()
