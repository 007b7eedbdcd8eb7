"""The OpenAPI document of CRUD routers: valid, and promising only input the API accepts."""

from __future__ import annotations

import enum
import re
from typing import Any

import pytest
from openapi_spec_validator import validate
from sqlalchemy import BigInteger
from sqlalchemy import Enum
from sqlalchemy import SmallInteger
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.db.crud_models import SUFFIX
from tests.db.crud_models import crud_app

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import crud_router
from trivium.testing import TestClient


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Gauge(IntPK, Model):
    __tablename__ = f"crud_ga_{SUFFIX}"
    label: Mapped[str] = mapped_column(String(30))
    level: Mapped[Level] = mapped_column(
        Enum(Level, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=Level.LOW,
    )
    count: Mapped[int] = mapped_column(SmallInteger, default=0)
    big: Mapped[int] = mapped_column(BigInteger, default=0)


def gauge_app(db: Database) -> App:
    app = crud_app(db)
    app.include_router(
        crud_router(
            Gauge,
            db,
            prefix="/gauges",
            filters=["level", "count__gte", "big__in"],
            ordering=["label", "count"],
        )
    )
    return app


def ordering_schema(app: App, path: str) -> dict[str, Any]:
    [param] = [
        p for p in app.openapi()["paths"][path]["get"]["parameters"] if p["name"] == "ordering"
    ]
    [string] = [s for s in param["schema"]["anyOf"] if s["type"] == "string"]
    return string  # type: ignore[no-any-return]


def test_the_document_passes_the_openapi_validator(db: Database) -> None:
    validate(gauge_app(db).openapi())


@pytest.mark.parametrize("name", ["PostUpdate", "GaugeUpdate", "GaugeCreate"])
def test_no_field_documents_a_default_its_schema_refuses(db: Database, name: str) -> None:
    schema = gauge_app(db).openapi()["components"]["schemas"][name]
    for field, prop in schema["properties"].items():
        if "default" in prop and prop["default"] is None:
            assert {"type": "null"} in prop.get("anyOf", []), field


def test_patch_leaves_out_fields_not_sent_and_refuses_null_for_non_nullable(db: Database) -> None:
    with TestClient(gauge_app(db)) as client:
        gauge = client.post("/gauges", json={"label": "a", "count": 3}).json()
        patched = client.patch(f"/gauges/{gauge['id']}", json={"label": "b"})
        assert patched.json() == {**gauge, "label": "b"}
        refused = client.patch(f"/gauges/{gauge['id']}", json={"count": None})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", "count"]


def test_enum_columns_are_written_read_and_filtered(db: Database) -> None:
    with TestClient(gauge_app(db)) as client:
        created = client.post("/gauges", json={"label": "a", "level": "high"})
        assert created.status_code == 201, created.text
        assert created.json()["level"] == "high"
        client.post("/gauges", json={"label": "b"})
        patched = client.patch(f"/gauges/{created.json()['id']}", json={"level": "low"})
        assert patched.json()["level"] == "low"
        assert client.get("/gauges", params={"level": "low"}).json()["total"] == 2
        assert client.post("/gauges", json={"label": "c", "level": "max"}).status_code == 422


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/gauges", {"label": "a", "count": 2**15}),
        ("POST", "/gauges", {"label": "a", "big": 2**63}),
        ("GET", f"/gauges/{2**31}", None),
        ("GET", "/gauges?count__gte=40000", None),
        ("GET", f"/gauges?big__in={2**64}", None),
        ("GET", f"/gauges?page={2**31}", None),
    ],
)
def test_integers_beyond_the_column_range_are_a_422(
    db: Database, method: str, url: str, body: dict[str, Any] | None
) -> None:
    with TestClient(gauge_app(db)) as client:
        response = client.request(method, url, json=body)
        assert response.status_code == 422, response.text


def test_integers_within_the_column_range_are_stored(db: Database) -> None:
    with TestClient(gauge_app(db)) as client:
        created = client.post("/gauges", json={"label": "a", "count": -(2**15), "big": 2**62})
        assert created.status_code == 201, created.text
        assert client.get("/gauges", params={"big__in": [2**62]}).json()["total"] == 1


def test_the_document_gives_the_integer_ranges(db: Database) -> None:
    doc = gauge_app(db).openapi()
    create = doc["components"]["schemas"]["GaugeCreate"]["properties"]
    assert (create["count"]["minimum"], create["count"]["maximum"]) == (-(2**15), 2**15 - 1)
    [key] = doc["paths"]["/gauges/{id}"]["get"]["parameters"]
    assert key["schema"]["maximum"] == 2**31 - 1


@pytest.mark.parametrize("value", ["title", "-pages,title", "created_at , -title", ""])
def test_orderings_matching_the_documented_pattern_are_accepted(db: Database, value: str) -> None:
    app = crud_app(db)
    assert re.search(ordering_schema(app, "/posts")["pattern"], value)
    with TestClient(app) as client:
        assert client.get("/posts", params={"ordering": value}).status_code == 200


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("secret", "cannot order by 'secret'"),
        ("title,", "malformed ordering"),
        ("--title", "cannot order by '-title'"),
    ],
)
def test_orderings_outside_the_pattern_are_a_422_naming_the_fields(
    db: Database, value: str, reason: str
) -> None:
    app = crud_app(db)
    assert not re.search(ordering_schema(app, "/posts")["pattern"], value)
    with TestClient(app) as client:
        response = client.get("/posts", params={"ordering": value})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert reason in error["msg"]
        assert "title, pages, created_at" in error["msg"]


def test_an_empty_ordering_keeps_the_default_order(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        for index, title in enumerate(["b", "a"]):
            client.post("/posts", json={"title": title, "slug": f"s{index}"})
        page = client.get("/posts", params={"ordering": ""}).json()
        assert [post["title"] for post in page["items"]] == ["b", "a"]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/posts", {"title": "a\x00b", "slug": "nul"}),
        ("GET", "/posts?search=a%00b", None),
        ("GET", "/posts?title__icontains=%00", None),
    ],
)
def test_text_with_a_nul_character_is_a_422(
    db: Database, method: str, url: str, body: dict[str, Any] | None
) -> None:
    # PostgreSQL cannot store NUL: the document's pattern excludes it on every backend.
    with TestClient(crud_app(db)) as client:
        response = client.request(method, url, json=body)
        assert response.status_code == 422, response.text


def test_other_control_characters_are_stored(db: Database) -> None:
    with TestClient(crud_app(db)) as client:
        created = client.post("/posts", json={"title": "a\tb\nc", "slug": "tab"})
        assert created.status_code == 201, created.text
        assert created.json()["title"] == "a\tb\nc"
