"""A text primary key the client gives: its `Location` is percent-encoded and leads back to it."""

from __future__ import annotations

import urllib.parse

import pytest
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.db.crud_models import SUFFIX

from trivium import App
from trivium.db import Database
from trivium.db import Model
from trivium.db import crud_router
from trivium.testing import TestClient


class Code(Model):
    __tablename__ = f"crud_code_{SUFFIX}"
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    label: Mapped[str | None] = mapped_column(String(20), default=None)


def _app(db: Database) -> App:
    app = App()
    db.init_app(app)
    app.include_router(crud_router(Code, db, prefix="/codes"))
    return app


@pytest.mark.parametrize("key", ["é", "Ⱦ", "a b", "50%", "x?y#z", "...", ".a", "日本"])
def test_the_location_of_a_created_row_leads_back_to_it(db: Database, key: str) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        created = client.post("/codes", json={"code": key, "label": "one"})
        assert created.status_code == 201, created.text
        where = created.headers["location"]
        assert where == "/codes/" + urllib.parse.quote(key, safe="")
        assert where.isascii()
        read = client.get(where)
        assert read.status_code == 200, read.text
        assert read.json() == {"code": key, "label": "one"}
        patched = client.patch(where, json={"label": "two"})
        assert patched.status_code == 200, patched.text
        assert client.delete(where).status_code == 204


@pytest.mark.parametrize("key", ["a/b", "", ".", "..", "/"])
def test_a_key_that_is_not_one_path_segment_is_a_422(db: Database, key: str) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        answer = client.post("/codes", json={"code": key})
        listed = client.get("/codes").json()
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "code"]
    assert listed["total"] == 0


def test_the_document_gives_the_key_pattern(db: Database) -> None:
    fields = _app(db).openapi()["components"]["schemas"]["CodeCreate"]["properties"]
    assert "pattern" in fields["code"]
    assert fields["code"]["maxLength"] == 10
