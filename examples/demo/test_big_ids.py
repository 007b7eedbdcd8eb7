"""Ids larger than the to-do id column holds answer 422 (the largest it holds: 404), never 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.demo.app import create_app
from examples.demo.test_app import log_in
from trivium.testing import TestClient

TOO_BIG = ["2147483648", "9223372036854775808", "99999999999999999999"]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("todo_id", TOO_BIG)
def test_pages_refuse_an_id_past_the_column(client: TestClient, todo_id: str) -> None:
    token = log_in(client)
    assert client.get(f"/todos/{todo_id}").status_code == 422
    assert client.get(f"/todos/{todo_id}/edit").status_code == 422
    data = {"title": "x", "csrf_token": token}
    assert client.post(f"/todos/{todo_id}/edit", data=data).status_code == 422
    response = client.post(f"/todos/{todo_id}/delete", data={"csrf_token": token})
    assert response.status_code == 422


@pytest.mark.parametrize("todo_id", TOO_BIG)
def test_the_assistant_refuses_an_id_past_the_column(client: TestClient, todo_id: str) -> None:
    log_in(client)
    csrf = {"x-csrf-token": client.get("/auth/csrf").json()["csrf_token"]}
    response = client.post(f"/assistant/todos/{todo_id}/done", headers=csrf)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/")
    assert "todo_id" in response.text


def test_the_largest_id_the_column_holds_is_a_404(client: TestClient) -> None:
    token = log_in(client)
    assert client.get("/todos/2147483647").status_code == 404
    response = client.post("/todos/2147483647/delete", data={"csrf_token": token})
    assert response.status_code == 404
    csrf = {"x-csrf-token": client.get("/auth/csrf").json()["csrf_token"]}
    assert client.post("/assistant/todos/2147483647/done", headers=csrf).status_code == 404
