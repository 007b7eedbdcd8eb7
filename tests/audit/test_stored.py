"""Entries record the value the database stored, not the value the program sent."""

from __future__ import annotations

import decimal

import pytest
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Price

from trivium.audit import Audit
from trivium.audit import AuditEntry

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def stored(session: AsyncSession, price: Price) -> str:
    """Read the amount back from the table (a column query skips the identity map)."""
    value = await session.scalar(select(Price.amount).where(Price.id == price.id))
    return str(value)


async def entries(session: AsyncSession) -> list[AuditEntry]:
    return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def test_a_rounded_decimal_is_recorded_as_stored(session: AsyncSession, audit: Audit) -> None:
    price = Price(amount=decimal.Decimal("1.239"))
    session.add(price)
    await session.commit()
    first = await stored(session, price)
    price.amount = decimal.Decimal("2.005")
    await session.commit()
    second = await stored(session, price)
    history = await audit.history(session, Price, price.id)
    assert [e.changes["amount"] for e in history] == [[first, second], [None, first]]
    if session.get_bind().dialect.name == "sqlite":
        # SQLAlchemy binds a float and reads it back formatted to the scale
        assert (first, second) == ("1.24", "2.00")
    else:  # the server rounds half away from zero
        assert (first, second) == ("1.24", "2.01")


async def test_a_negative_decimal_is_recorded_as_stored(session: AsyncSession) -> None:
    price = Price(amount=decimal.Decimal("-0.125"))
    session.add(price)
    await session.flush()
    (created,) = await entries(session)
    assert created.changes["amount"] == [None, await stored(session, price)]
    if session.get_bind().dialect.name != "sqlite":  # SQLite formats the float -0.125 as -0.12
        assert created.changes["amount"] == [None, "-0.13"]


async def test_a_change_below_the_scale_records_nothing(session: AsyncSession) -> None:
    price = Price(amount=decimal.Decimal("1.24"))
    session.add(price)
    await session.commit()
    price.amount = decimal.Decimal("1.2401")
    await session.commit()
    assert [e.action for e in await entries(session)] == ["create"]
    assert await stored(session, price) == "1.24"


async def test_a_second_flush_records_the_stored_value_as_before(session: AsyncSession) -> None:
    price = Price(amount=decimal.Decimal("1.239"))
    session.add(price)
    await session.flush()
    price.amount = decimal.Decimal("3.5")
    await session.flush()
    _, updated = await entries(session)
    assert updated.changes["amount"] == ["1.24", "3.50"]


async def test_bulk_updates_record_the_stored_value(session: AsyncSession) -> None:
    price = Price(amount=decimal.Decimal("1.00"))
    session.add(price)
    await session.commit()
    await session.execute(update(Price).values(amount=decimal.Decimal("4.444")))
    await session.commit()
    after_where = await stored(session, price)
    await session.execute(update(Price), [{"id": price.id, "amount": decimal.Decimal("5.555")}])
    await session.commit()
    after_pk = await stored(session, price)
    _, by_where, by_pk = await entries(session)
    assert by_where.changes["amount"] == ["1.00", after_where]
    assert by_pk.changes["amount"] == [after_where, after_pk]
