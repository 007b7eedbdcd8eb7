"""CRUD input a `Numeric(p, s)` or timezone-naive `DateTime` column cannot hold is a 422, not a 500."""

from __future__ import annotations

import datetime
import decimal

import pytest
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from tests.db.crud_models import SUFFIX

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import crud_router
from trivium.testing import TestClient


class Price(IntPK, Model):
    __tablename__ = f"crud_price_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(20))
    amount: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    ratio: Mapped[float | None] = mapped_column(Numeric(4, 1, asdecimal=False), default=None)


class Meeting(IntPK, Model):
    __tablename__ = f"crud_meeting_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime.datetime]


def _app(db: Database) -> App:
    app = App()
    db.init_app(app)
    app.include_router(crud_router(Price, db, prefix="/prices"))
    app.include_router(crud_router(Meeting, db, prefix="/meetings", filters=["at__gte"]))
    return app


@pytest.mark.parametrize("amount", ["123456789012", 1e300, "123456789.5", "-100000000"])
def test_an_amount_too_large_for_its_numeric_column_is_a_422(
    db: Database, amount: str | float
) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        answer = client.post("/prices", json={"name": "big", "amount": amount})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "amount"]


def test_more_decimals_than_the_numeric_scale_are_a_422_not_rounded(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        refused = client.post("/prices", json={"name": "odd", "amount": "9.999"})
        kept = client.post("/prices", json={"name": "even", "amount": "99999999.99"})
        created = client.post("/prices", json={"name": "c", "amount": "1"}).json()
        patched = client.patch(f"/prices/{created['id']}", json={"amount": "99999999999"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "decimal_max_places"
    assert kept.status_code == 201, kept.text
    assert decimal.Decimal(kept.json()["amount"]) == decimal.Decimal("99999999.99")
    assert patched.status_code == 422


def test_a_float_numeric_column_refuses_a_value_beyond_its_digits(db: Database) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        refused = client.post("/prices", json={"name": "r", "amount": "1", "ratio": 1000.0})
        kept = client.post("/prices", json={"name": "r", "amount": "1", "ratio": 999.9})
    assert refused.status_code == 422
    assert kept.status_code == 201, kept.text


@pytest.mark.parametrize("at", ["2026-01-01T10:00:00+02:00", "2026-01-01T10:00:00Z"])
def test_an_offset_for_a_naive_datetime_column_is_a_422(db: Database, at: str) -> None:
    with TestClient(_app(db), raise_server_exceptions=False) as client:
        naive = client.post("/meetings", json={"name": "naive", "at": "2026-01-01T10:00:00"})
        created = client.post("/meetings", json={"name": "aware", "at": at})
        patched = client.patch(f"/meetings/{naive.json()['id']}", json={"at": at})
        listed = client.get("/meetings", params={"at__gte": at})
    assert naive.status_code == 201, naive.text
    assert naive.json()["at"] == "2026-01-01T10:00:00"
    for answer in (created, patched, listed):
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["type"] == "timezone_naive"
