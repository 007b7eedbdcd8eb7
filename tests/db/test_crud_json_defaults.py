"""JSON columns (`null` is SQL NULL, no order) and server defaults through the CRUD router."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import JSON
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import func
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.db.crud_models import SUFFIX

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import crud_router
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


class Setting(IntPK, Model):
    __tablename__ = f"crud_setting_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(20))
    data: Mapped[Any | None] = mapped_column(JSON, default=None)
    note: Mapped[str | None] = mapped_column(Text, server_default="it's \\ set")
    rank: Mapped[int | None] = mapped_column(Integer, server_default="7")
    code: Mapped[str | None] = mapped_column(String(20), server_default=text("'sql'"))
    size: Mapped[int] = mapped_column(server_default=func.abs(-3))


def _app(db: Database) -> App:
    app = App()
    db.init_app(app)
    filters = ["data__isnull", "data__icontains", "note__isnull"]
    app.include_router(crud_router(Setting, db, prefix="/settings", filters=filters))
    return app


def _names(client: TestClient, **params: Any) -> list[str]:
    answer = client.get("/settings", params=params)
    assert answer.status_code == 200, answer.text
    return sorted(item["name"] for item in answer.json()["items"])


def test_a_json_null_is_stored_as_sql_null(db: Database) -> None:
    with TestClient(_app(db)) as client:
        client.post("/settings", json={"name": "missing"})
        client.post("/settings", json={"name": "null", "data": None})
        put = client.post("/settings", json={"name": "put", "data": [1]}).json()
        patch = client.post("/settings", json={"name": "patch", "data": {"a": 1}}).json()
        client.post("/settings", json={"name": "kept", "data": {"a": None}})
        assert (
            client.put(f"/settings/{put['id']}", json={"name": "put", "data": None}).json()["data"]
            is None
        )
        assert client.patch(f"/settings/{patch['id']}", json={"data": None}).json()["data"] is None
        assert _names(client, data__isnull="true") == ["missing", "null", "patch", "put"]
        assert _names(client, data__isnull="false") == ["kept"]
        assert _names(client, data__icontains="a") == ["kept"]


@pytest.mark.parametrize(
    "options",
    [
        {"filters": ["data"]},
        {"filters": ["data__in"]},
        {"filters": ["data__gte"]},
        {"filters": ["data__range"]},
        {"ordering": ["data"]},
        {"default_ordering": ["-data"]},
    ],
)
def test_ordering_or_comparing_a_json_column_is_refused_at_start_up(
    db: Database, options: dict[str, Any]
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        crud_router(Setting, db, **options)
    assert caught.value.code == "crud-bad-filter"
    assert "JSON column" in str(caught.value)


def test_a_server_default_is_not_documented_as_null(db: Database) -> None:
    fields = _app(db).openapi()["components"]["schemas"]["SettingCreate"]["properties"]
    for name in ("note", "rank", "code", "size"):
        assert "default" not in fields[name], (name, fields[name])
    assert fields["data"]["default"] is None


def test_put_without_a_field_gives_it_its_server_default_as_post_does(db: Database) -> None:
    with TestClient(_app(db)) as client:
        created = client.post("/settings", json={"name": "a"}).json()
        expected = {"note": "it's \\ set", "rank": 7, "code": "sql", "size": 3}
        assert {k: created[k] for k in expected} == expected
        changed = {"name": "a", "note": "x", "rank": 1, "code": "y", "size": 9}
        assert client.put(f"/settings/{created['id']}", json=changed).status_code == 200
        replaced = client.put(f"/settings/{created['id']}", json={"name": "b"})
        assert replaced.status_code == 200, replaced.text
        assert {k: replaced.json()[k] for k in expected} == expected
        cleared = client.put(f"/settings/{created['id']}", json={"name": "b", "note": None})
        assert cleared.json()["note"] is None
        assert _names(client, note__isnull="true") == ["b"]
