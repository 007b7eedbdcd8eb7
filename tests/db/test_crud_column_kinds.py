"""String enums, timestamps with time zone, times and `Numeric` digits through the CRUD router.

A value the column cannot hold is a 422 with the allowed values documented, never a 500;
an aware timestamp keeps its instant on every backend (SQLite drops offsets).
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any
from typing import Literal

import pytest
from openapi_spec_validator import validate
from sqlalchemy import DateTime
from sqlalchemy import Enum
from sqlalchemy import Numeric
from sqlalchemy import Time
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.db.crud_models import SUFFIX

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import crud_router
from trivium.testing import TestClient


class Entry(IntPK, Model):
    __tablename__ = f"crud_entry_{SUFFIX}"
    status: Mapped[Literal["draft", "live"]] = mapped_column(default="draft")
    kind: Mapped[str | None] = mapped_column(
        Enum("a", "b", name=f"crud_kind_{SUFFIX}"), default=None
    )
    at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    opens: Mapped[datetime.time | None] = mapped_column(Time, default=None)
    price: Mapped[decimal.Decimal | None] = mapped_column(Numeric(10, 2), default=None)


def _app(db: Database) -> App:
    app = App()
    db.init_app(app)
    filters = ["status", "kind", "at__gte", "at", "price", "price__gte", "price__gt", "price__lt"]
    filters.append("price__range")
    app.include_router(crud_router(Entry, db, prefix="/entries", filters=filters, ordering=["at"]))
    return app


def _ids(client: TestClient, **params: Any) -> list[int]:
    answer = client.get("/entries", params=params)
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def test_a_string_enum_takes_only_its_values_in_bodies_and_filters(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        bad_status = client.post("/entries", json={"status": "bogus"})
        bad_kind = client.post("/entries", json={"kind": "zzz"})
        good = client.post("/entries", json={"status": "live", "kind": "b"})
        patched = client.patch(f"/entries/{good.json()['id']}", json={"kind": "c"})
        filtered = [client.get("/entries", params={"kind": v}) for v in ("", "zzz")]
        found = _ids(client, kind="b", status="live")
    assert bad_status.status_code == 422, bad_status.text
    assert bad_status.json()["detail"][0]["loc"] == ["body", "status"]
    assert bad_kind.status_code == 422, bad_kind.text
    assert good.status_code == 201, good.text
    assert good.json()["kind"] == "b"
    assert patched.status_code == 422, patched.text
    for answer in filtered:
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"] == ["query", "kind"]
    assert found == [good.json()["id"]]


def test_the_document_lists_the_values_of_a_string_enum(db: Database) -> None:
    app = _app(db)
    document = app.openapi()
    validate(document)
    fields = document["components"]["schemas"]["EntryCreate"]["properties"]
    assert fields["status"]["enum"] == ["draft", "live"]
    assert {"enum": ["a", "b"], "type": "string"} in fields["kind"]["anyOf"]


def test_an_aware_timestamp_keeps_its_instant_and_is_read_in_utc(db: Database) -> None:
    with TestClient(_app(db)) as client:
        late = client.post("/entries", json={"at": "2026-01-01T23:30:00-05:00"}).json()
        early = client.post("/entries", json={"at": "2026-01-02T01:00:00Z"}).json()
        read = client.get(f"/entries/{late['id']}").json()
        assert late["at"] == read["at"] == "2026-01-02T04:30:00Z"
        assert early["at"] == "2026-01-02T01:00:00Z"
        assert _ids(client, ordering="at") == [early["id"], late["id"]]
        assert _ids(client, at__gte="2026-01-02T02:00:00Z") == [late["id"]]
        assert _ids(client, at="2026-01-02T05:30:00+01:00") == [late["id"]]
        patched = client.patch(f"/entries/{early['id']}", json={"at": "2026-01-02T12:00:00+12:00"})
        assert patched.json()["at"] == "2026-01-02T00:00:00Z"


def test_a_naive_value_for_a_timestamp_with_time_zone_is_a_422(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        body = client.post("/entries", json={"at": "2026-01-01T10:00:00"})
        query = client.get("/entries", params={"at__gte": "2026-01-01T10:00:00"})
        overflow = client.post("/entries", json={"at": "9999-12-31T23:00:00-14:00"})
    assert body.status_code == 422, body.text
    assert body.json()["detail"][0]["type"] == "timezone_aware"
    assert query.status_code == 422, query.text
    assert overflow.status_code == 422, overflow.text


def test_a_time_without_time_zone_refuses_an_offset(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        refused = client.post("/entries", json={"opens": "10:11:12+02:00"})
        kept = client.post("/entries", json={"opens": "10:11:12"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "opens"]
    assert "without an offset" in refused.json()["detail"][0]["msg"]
    assert kept.status_code == 201, kept.text
    assert kept.json()["opens"] == "10:11:12"


def test_numeric_limits_are_documented(db: Database) -> None:
    fields = _app(db).openapi()["components"]["schemas"]["EntryCreate"]["properties"]
    [number] = [s for s in fields["price"]["anyOf"] if s.get("type") == "number"]
    assert number["exclusiveMaximum"] == 10**8
    assert number["exclusiveMinimum"] == -(10**8)


@pytest.mark.parametrize(
    ("params", "matches"),
    [
        ({"price__gte": "1.005"}, True),
        # Rounded to the column's 2 decimals, these would compare 1.01 with 1.01.
        ({"price__gt": "1.005"}, True),
        ({"price__lt": "1.0149"}, True),
        ({"price__gte": "1.015"}, False),
        ({"price__range": ["1.001", "1.0100001"]}, True),
        ({"price__gte": "1e20"}, False),
    ],
)
def test_a_comparison_value_may_have_more_digits_than_the_column(
    db: Database, params: dict[str, Any], matches: bool
) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        created = client.post("/entries", json={"price": "1.01"}).json()
        answer = client.get("/entries", params=params)
        exact = client.get("/entries", params={"price": "1.011"})
    assert answer.status_code == 200, answer.text
    assert [i["id"] for i in answer.json()["items"]] == ([created["id"]] if matches else [])
    # An exact value must still fit the column.
    assert exact.status_code == 422, exact.text
