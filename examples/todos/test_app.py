from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.todos.app import app
from trivium.testing import TestClient


# --8<-- [start:fixture]
@pytest.fixture
def client() -> Iterator[TestClient]:
    # `with` runs the lifespan: the app-scoped store is created fresh for each test and
    # closed when the block ends.
    with TestClient(app) as client:
        yield client


# --8<-- [end:fixture]


def test_index_page_links_to_the_endpoints(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    links = ('href="/docs"', 'href="/health"', 'href="/todos"', 'href="/events/clock?count=5"')
    for link in (*links, "/ws/echo"):
        assert link in response.text


def test_api_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    document = client.get("/openapi.json").json()
    assert {"/todos", "/todos/{todo_id}", "/health"} <= set(document["paths"])


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_list_returns_the_seeded_todos_through_the_response_model(client: TestClient) -> None:
    todos = client.get("/todos").json()
    assert [t["id"] for t in todos] == [1, 2, 3]
    assert set(todos[0]) == {"id", "title", "done"}  # `notes` is filtered out by TodoOut


def test_list_filters_and_paginates(client: TestClient) -> None:
    client.patch("/todos/2", json={"done": True})
    assert [t["id"] for t in client.get("/todos", params={"done": "true"}).json()] == [2]
    page = client.get("/todos", params={"done": "false", "limit": 1, "offset": 1}).json()
    assert [t["id"] for t in page] == [3]


def test_list_rejects_an_out_of_range_limit(client: TestClient) -> None:
    response = client.get("/todos", params={"limit": 0})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "limit"]
    assert error["type"] == "greater_than_equal"


def test_create_returns_201_and_is_visible_afterwards(client: TestClient) -> None:
    response = client.post("/todos", json={"title": "Write docs", "notes": "all pages"})
    assert response.status_code == 201
    assert response.json() == {"id": 4, "title": "Write docs", "done": False, "notes": "all pages"}
    assert client.get("/todos/4").json()["title"] == "Write docs"


def test_create_runs_a_background_task(client: TestClient) -> None:
    client.post("/todos", json={"title": "Write docs"})
    assert client.get("/activity").json() == ["created todo 4: Write docs"]


def test_create_validates_the_body(client: TestClient) -> None:
    response = client.post("/todos", json={"title": "", "notes": 3})
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert locs == [["body", "title"], ["body", "notes"]]
    assert [t["id"] for t in client.get("/todos").json()] == [1, 2, 3]


def test_create_without_a_body_is_a_422(client: TestClient) -> None:
    response = client.post("/todos")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_create_with_malformed_json_is_a_400(client: TestClient) -> None:
    response = client.post(
        "/todos", content=b'{"title": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON body")


def test_get_unknown_todo_is_a_404(client: TestClient) -> None:
    response = client.get("/todos/999")
    assert response.status_code == 404
    assert response.json() == {"detail": "Todo 999 not found"}


def test_todo_id_must_be_positive(client: TestClient) -> None:
    response = client.get("/todos/0")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "todo_id"]


def test_patch_changes_only_the_fields_sent(client: TestClient) -> None:
    response = client.patch("/todos/1", json={"done": True})
    assert response.status_code == 200
    assert response.json() == {
        "id": 1,
        "title": "Read the trivium docs",
        "done": True,
        "notes": None,
    }
    assert client.get("/activity").json() == ["completed todo 1"]


def test_delete_answers_204_and_removes_the_todo(client: TestClient) -> None:
    response = client.delete("/todos/2")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/todos/2").status_code == 404


def test_view_answers_405_for_a_method_it_does_not_define(client: TestClient) -> None:
    response = client.put("/todos/1", json={"title": "x"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PATCH, DELETE, HEAD, OPTIONS"


def test_each_lifespan_gets_a_fresh_store() -> None:
    with TestClient(app) as first:
        first.delete("/todos/1")
        assert len(first.get("/todos").json()) == 2
    with TestClient(app) as second:
        assert len(second.get("/todos").json()) == 3


# --8<-- [start:websocket]
def test_websocket_echo(client: TestClient) -> None:
    with client.websocket_connect("/ws/echo") as websocket:
        websocket.send_text("hello")
        assert websocket.receive_text() == "echo: hello"
        websocket.send_text("again")
        assert websocket.receive_text() == "echo: again"


# --8<-- [end:websocket]


# --8<-- [start:sse]
def test_clock_streams_server_sent_events(client: TestClient) -> None:
    with client.stream("GET", "/events/clock", params={"count": 3, "interval": 0}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    events = [block for block in body.split("\n\n") if block]
    assert len(events) == 3
    assert events[0].splitlines()[:2] == ["event: tick", "id: 1"]
    assert events[2].splitlines()[-1].startswith('data: {"n":3,')


# --8<-- [end:sse]


def test_clock_validates_its_query(client: TestClient) -> None:
    response = client.get("/events/clock", params={"count": 1000})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "count"]
