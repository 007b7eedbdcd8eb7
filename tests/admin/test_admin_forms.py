"""The add/change form's field rules: decimals the column can hold (every database)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import anyio
from sqlalchemy import select
from tests.admin.adminapp import SECRET
from tests.admin.adminapp import Coupon
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import log_in
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import App
from trivium.admin import Admin
from trivium.auth import Auth
from trivium.db import Database
from trivium.stores import MemoryStore
from trivium.testing import TestClient


@contextlib.contextmanager
def coupons_admin(db: Database) -> Iterator[TestClient]:
    anyio.run(seed, db, 0)
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore())
    admin = Admin(db, auth)
    admin.register(Coupon)
    with TestClient(App(plugins=[db, auth, admin]), follow_redirects=False) as client:
        log_in(client, "root@example.com")
        yield client


async def _count(db: Database) -> int:
    db = twin(db)
    async with db.sessionmaker() as session:
        rows = list((await session.scalars(select(Coupon))).all())
    await db.dispose()
    return len(rows)


def _add(client: TestClient, amount: str) -> str:
    page = client.get("/admin/shop/coupon/add")
    answer = client.post(
        "/admin/shop/coupon/add",
        data={"code": "C-" + amount[:10], "amount": amount, "csrf_token": csrf_of(page)},
    )
    assert answer.status_code in (303, 422), answer.text
    return answer.text if answer.status_code == 422 else ""


def test_a_decimal_with_too_many_digits_is_a_form_error(db: Database) -> None:
    with coupons_admin(db) as client:
        assert "no more than 8 digits in total" in _add(client, "123456789.5")
        assert "no more than 6 digits before the decimal point" in _add(client, "1234567.5")
    assert anyio.run(_count, db) == 0


def test_a_decimal_with_too_many_places_is_refused_not_rounded(db: Database) -> None:
    with coupons_admin(db) as client:
        assert "no more than 2 decimal places" in _add(client, "1.239")
        assert _add(client, "1.20") == ""
    assert anyio.run(_count, db) == 1


def test_the_decimal_input_steps_by_the_column_scale(db: Database) -> None:
    with coupons_admin(db) as client:
        page = client.get("/admin/shop/coupon/add")
        field = re.search(r'<input[^>]*name="amount"[^>]*>', page.text)
        assert field is not None
        assert 'step="0.01"' in field.group(0)
