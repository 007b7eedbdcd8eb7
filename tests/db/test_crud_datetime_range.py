"""Datetimes with no UTC equivalent, and out-of-range date transforms, are 422s, not 500s."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.db.crud_models import SUFFIX

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Timestamps
from trivium.db import UTCDateTime
from trivium.db import crud_router
from trivium.testing import TestClient


class Happening(IntPK, Timestamps, Model):
    __tablename__ = f"crud_event_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime())


TRANSFORM_FILTERS = [
    f"created_at__{part}{lookup}"
    for part in ("year", "month", "day", "hour", "minute")
    for lookup in ("", "__gte", "__in")
]


def _app(db: Database) -> App:
    app = App()
    db.init_app(app)
    app.include_router(
        crud_router(
            Happening,
            db,
            prefix="/events",
            filters=["at__gte", "at__in", "created_at__gte", *TRANSFORM_FILTERS],
        )
    )
    return app


BEYOND_UTC = ["9999-12-31T23:00:00-14:00", "0001-01-01T01:00:00+14:00"]


@pytest.mark.parametrize("at", BEYOND_UTC)
def test_a_body_datetime_beyond_utc_years_is_a_422_naming_the_field(db: Database, at: str) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        created = client.post("/events", json={"name": "far", "at": at})
        kept = client.post("/events", json={"name": "near", "at": "2026-01-01T10:00:00Z"})
        patched = client.patch(f"/events/{kept.json()['id']}", json={"at": at})
        replaced = client.put(f"/events/{kept.json()['id']}", json={"name": "x", "at": at})
        unchanged = client.get(f"/events/{kept.json()['id']}")
    for answer in (created, patched, replaced):
        assert answer.status_code == 422, answer.text
        error = answer.json()["detail"][0]
        assert error["loc"] == ["body", "at"]
        assert "outside years 1 to 9999 in UTC" in error["msg"]
    assert unchanged.json()["at"] == "2026-01-01T10:00:00Z"


def test_the_last_and_first_utc_instants_are_stored(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        last = client.post("/events", json={"name": "l", "at": "9999-12-31T22:59:59-01:00"})
        first = client.post("/events", json={"name": "f", "at": "0001-01-01T01:00:00+01:00"})
    assert last.status_code == 201, last.text
    assert last.json()["at"] == "9999-12-31T23:59:59Z"
    assert first.status_code == 201, first.text
    assert first.json()["at"] == "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("at__gte", "0001-01-01T00:00:00+01:00"),
        ("at__in", "9999-12-31T23:00:00-14:00"),
        ("created_at__gte", "9999-12-31T23:59:59-14:00"),
    ],
)
def test_a_filter_datetime_beyond_utc_years_is_a_422(db: Database, param: str, value: str) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        answer = client.get("/events", params={param: value})
        fine = client.get("/events", params={param: "2026-01-01T00:00:00+01:00"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"][:2] == ["query", param]
    assert fine.status_code == 200, fine.text


@pytest.mark.parametrize(
    ("part", "low", "high"),
    [("year", 1, 9999), ("month", 1, 12), ("day", 1, 31), ("hour", 0, 23), ("minute", 0, 59)],
)
def test_date_transform_filters_take_their_parts_range(
    db: Database, part: str, low: int, high: int
) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        client.post("/events", json={"name": "e", "at": "2026-01-01T10:00:00Z"})
        refused = [
            client.get("/events", params={f"created_at__{part}{lookup}": value})
            for lookup in ("", "__gte", "__in")
            for value in (99999999999, 3000000000, -5000000000, low - 1, high + 1)
        ]
        accepted = [
            client.get("/events", params={f"created_at__{part}": value}) for value in (low, high)
        ]
        schema = client.get("/openapi.json").json()
    for answer in refused:
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"][1].startswith(f"created_at__{part}")
    for answer in accepted:
        assert answer.status_code == 200, answer.text
    params = {p["name"]: p for p in schema["paths"]["/events"]["get"]["parameters"]}
    exact = params[f"created_at__{part}"]["schema"]["anyOf"][0]
    assert (exact["minimum"], exact["maximum"]) == (low, high)
