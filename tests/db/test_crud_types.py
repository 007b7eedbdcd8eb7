"""Column types reach filters, validation and OpenAPI typed: timestamps are datetimes, not text."""

from __future__ import annotations

import datetime
import decimal
import uuid

from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Uuid
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Timestamps
from trivium.db import UTCDateTime
from trivium.db import crud_router
from trivium.testing import TestClient

SUFFIX = uuid.uuid4().hex[:8]


class Event(IntPK, Timestamps, Model):
    __tablename__ = f"ty_events_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(40))
    starts: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime(), default=None)


def events_app(db: Database) -> App:
    app = App()
    db.init_app(app)
    filters = [
        "created_at__gte",
        "created_at__lt",
        "starts",
        "starts__year",
        "starts__date",
        "starts__month__range",
    ]
    app.include_router(crud_router(Event, db, prefix="/events", filters=filters))
    return app


def names(client: TestClient, **params: object) -> list[str]:
    response = client.get("/events", params=params)
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json()["items"])


def test_timestamp_filters_take_datetimes(db: Database) -> None:
    with TestClient(events_app(db)) as client:
        for name, starts in [("a", "2026-03-01T10:00:00Z"), ("b", "2027-07-14T23:30:00-02:00")]:
            assert client.post("/events", json={"name": name, "starts": starts}).status_code == 201
        assert names(client, created_at__gte="2026-01-01T00:00:00Z") == ["a", "b"]
        assert names(client, created_at__lt="2026-01-01T00:00:00+01:00") == []
        assert names(client, starts="2026-03-01T11:00:00+01:00") == ["a"]
        # Parts are taken in UTC: 23:30 at -02:00 is 15 July.
        assert names(client, starts__date="2027-07-15") == ["b"]
        assert names(client, starts__year=2026) == ["a"]
        assert names(client, starts__month__range=[3, 7]) == ["a", "b"]


def test_bad_or_naive_timestamps_are_a_422(db: Database) -> None:
    with TestClient(events_app(db)) as client:
        for params in [
            {"created_at__gte": "yesterday"},
            {"created_at__gte": "2026-01-01T00:00:00"},
            {"starts__year": "soon"},
            {"starts__date": "2026-13-01"},
            {"starts__month__range": "3"},
        ]:
            response = client.get("/events", params=params)
            assert response.status_code == 422, (params, response.text)
            assert response.json()["detail"][0]["loc"][0] == "query"
        response = client.post("/events", json={"name": "n", "starts": "2026-01-01T00:00:00"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "timezone_aware"


def test_openapi_types_timestamps_as_date_time(db: Database) -> None:
    with TestClient(events_app(db)) as client:
        document = client.get("/openapi.json").json()
    params = {p["name"]: p["schema"] for p in document["paths"]["/events"]["get"]["parameters"]}
    assert {"type": "string", "format": "date-time"} in params["created_at__gte"]["anyOf"]
    assert {"type": "string", "format": "date"} in params["starts__date"]["anyOf"]
    assert {"type": "integer", "minimum": 1, "maximum": 9999} in params["starts__year"]["anyOf"]
    schemas = document["components"]["schemas"]
    assert schemas["EventRead"]["properties"]["created_at"] == {
        "type": "string",
        "format": "date-time",
        "title": "Created At",
    }


class Reading(IntPK, Model):
    __tablename__ = f"ty_readings_{SUFFIX}"
    taken: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    day: Mapped[datetime.date] = mapped_column(Date)
    value: Mapped[decimal.Decimal] = mapped_column(Numeric(8, 2))
    sensor: Mapped[uuid.UUID] = mapped_column(Uuid)


def test_other_column_types_are_typed_in_filters(db: Database) -> None:
    app = App()
    db.init_app(app)
    filters = ["taken__gte", "day", "day__year", "value__gt", "sensor"]
    app.include_router(crud_router(Reading, db, prefix="/readings", filters=filters))
    sensor = uuid.uuid4()
    with TestClient(app) as client:
        body = {
            "taken": "2026-05-01T12:00:00Z",
            "day": "2026-05-01",
            "value": "12.50",
            "sensor": str(sensor),
        }
        assert client.post("/readings", json=body).status_code == 201
        for params, total in [
            ({"taken__gte": "2026-05-01T11:00:00Z"}, 1),
            ({"day": "2026-05-01"}, 1),
            ({"day__year": 2025}, 0),
            ({"value__gt": "12.49"}, 1),
            ({"sensor": str(sensor)}, 1),
        ]:
            response = client.get("/readings", params=params)
            assert response.status_code == 200, (params, response.text)
            assert response.json()["total"] == total, params
        # A naive value on a plain timezone-aware column: the database's rules, never a 500.
        naive = client.get("/readings", params={"taken__gte": "2026-05-01T11:00:00"})
        assert naive.status_code in (200, 422), naive.text
        for params in [{"day": "May"}, {"value__gt": "lots"}, {"sensor": "x"}, {"taken__gte": "t"}]:
            assert client.get("/readings", params=params).status_code == 422, params
        document = client.get("/openapi.json").json()
    schema = document["paths"]["/readings"]["get"]["parameters"]
    types = {p["name"]: p["schema"]["anyOf"][0] for p in schema if "anyOf" in p["schema"]}
    assert types["taken__gte"] == {"type": "string", "format": "date-time"}
    assert types["day"] == {"type": "string", "format": "date"}
    assert types["sensor"] == {"type": "string", "format": "uuid"}
