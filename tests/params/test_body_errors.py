"""422 answers for a missing or non-object body name the missing fields, never the raw input."""

from __future__ import annotations

from pydantic import BaseModel

from trivium import App
from trivium import Body
from trivium.testing import TestClient


class Item(BaseModel):
    name: str


class User(BaseModel):
    username: str


def embedded_app() -> App:
    app = App()

    @app.put("/items/{item_id}")
    async def update(item_id: int, item: Item, user: User, note: str = Body("")) -> int:
        return item_id

    return app


def missing(*names: str) -> list[dict[str, object]]:
    return [
        {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": None}
        for name in names
    ]


def test_no_body_for_embedded_parameters_lists_each_required_one() -> None:
    response = TestClient(embedded_app()).put("/items/5")
    assert response.status_code == 422
    assert response.json()["detail"] == missing("item", "user")


def test_a_body_that_is_not_an_object_has_none_of_the_embedded_parameters() -> None:
    response = TestClient(embedded_app()).put("/items/5", json=[])
    assert response.status_code == 422
    assert response.json()["detail"] == missing("item", "user", "note")


def test_a_missing_single_body_reports_no_input() -> None:
    app = App()

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    response = TestClient(app).post("/items")
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]
