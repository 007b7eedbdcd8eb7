"""CRUD input the database would mishandle: version numbers, NaN, text lookups on numbers."""

from __future__ import annotations

import decimal
import enum

import pytest
from sqlalchemy import Enum
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.db.crud_models import SUFFIX

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Versioned
from trivium.db import crud_router
from trivium.testing import TestClient


class Shade(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Draft(IntPK, Versioned, Model):
    __tablename__ = f"crud_dr_{SUFFIX}"
    text: Mapped[str] = mapped_column(String(40))


class Reading(IntPK, Model):
    __tablename__ = f"crud_rd_{SUFFIX}"
    value: Mapped[float | None] = mapped_column(default=None)
    amount: Mapped[decimal.Decimal | None] = mapped_column(Numeric(10, 2), default=None)
    pages: Mapped[int] = mapped_column(default=1)
    shade: Mapped[Shade] = mapped_column(Enum(Shade), default=Shade.RED)


def _app(db: Database) -> App:
    app = App()
    db.init_app(app)
    app.include_router(crud_router(Draft, db, prefix="/drafts"))
    app.include_router(
        crud_router(
            Reading,
            db,
            prefix="/readings",
            search=["pages", "shade"],
            filters=["pages__icontains", "shade__istartswith", "value__gte"],
        )
    )
    return app


def test_the_version_of_a_versioned_model_is_read_only(db: Database) -> None:
    router = crud_router(Draft, db)
    for schema in (router.schemas.create, router.schemas.replace, router.schemas.update):
        assert "version" not in schema.model_fields
    assert "version" in router.schemas.read.model_fields


def test_a_client_cannot_roll_a_version_back_to_pass_a_stale_if_match(db: Database) -> None:
    with TestClient(_app(db)) as client:
        refused = client.post("/drafts", json={"text": "v1", "version": 50})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["type"] == "extra_forbidden"
        draft = client.post("/drafts", json={"text": "v1"}).json()
        url = f"/drafts/{draft['id']}"
        stale = client.get(url).headers["etag"]
        assert client.patch(url, json={"text": "B"}, headers={"if-match": stale}).status_code == 200
        rollback = client.patch(url, json={"version": 1}, headers={"if-match": "*"})
        assert rollback.status_code == 422
        late = client.patch(url, json={"text": "stale"}, headers={"if-match": stale})
        assert late.status_code == 412
        assert client.get(url).json()["text"] == "B"


@pytest.mark.parametrize("field", ["value", "amount"])
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_a_422(db: Database, field: str, number: str) -> None:
    with TestClient(_app(db)) as client:
        response = client.post("/readings", json={field: number})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", field]
        assert client.get("/readings").json()["total"] == 0


def test_finite_numbers_are_stored(db: Database) -> None:
    with TestClient(_app(db)) as client:
        created = client.post("/readings", json={"value": 1.5, "amount": "2.25"})
        assert created.status_code == 201, created.text
        assert client.get("/readings", params={"value__gte": 1}).json()["total"] == 1


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ({"search": "12"}, 1),
        ({"search": "blu"}, 1),
        ({"search": "BLU"}, 1),
        ({"search": "zzz"}, 0),
        ({"pages__icontains": "2"}, 1),
        ({"shade__istartswith": "r"}, 1),
    ],
)
def test_search_and_text_lookups_match_the_text_of_number_and_enum_columns(
    db: Database, query: dict[str, str], total: int
) -> None:
    with TestClient(_app(db)) as client:
        client.post("/readings", json={"pages": 120, "shade": "blue"})
        client.post("/readings", json={"pages": 7})
        response = client.get("/readings", params=query)
        assert response.status_code == 200, response.text
        assert response.json()["total"] == total
