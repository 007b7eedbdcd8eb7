"""`Database.prepare`: hot reads without an ORM session, on every backend."""

from __future__ import annotations

import asyncio
import datetime
import logging
import uuid

import pytest
from sqlalchemy import Float
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import bindparam
from sqlalchemy import column
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import table
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import UTCDateTime
from trivium.errors import ConfigurationError

SUFFIX = uuid.uuid4().hex[:8]

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


class Member(IntPK, Model):
    __tablename__ = f"p_members_{SUFFIX}"
    email: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    seen_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime(), default=None)


PLAIN = select(Member.__table__.c.id, Member.__table__.c.email, Member.__table__.c.active).where(
    Member.__table__.c.id == bindparam("member_id")
)
"""Plain column types only: the direct driver path on asyncpg."""
PROCESSED = select(Member.__table__.c.email, Member.__table__.c.seen_at).where(
    Member.__table__.c.id == bindparam("member_id")
)
"""A `TypeDecorator` column: its result processor applies on the direct path too."""
BY_SEEN = select(Member.__table__.c.email).where(
    Member.__table__.c.seen_at == bindparam("seen", type_=UTCDateTime())
)
"""A `TypeDecorator` parameter: its bind processor applies on the direct path too."""


async def _add(db: Database, email: str, seen_at: datetime.datetime | None = None) -> int:
    async with db.autocommit_engine.connect() as connection:
        result = await connection.execute(
            insert(Member).values(email=email, active=True, seen_at=seen_at).returning(Member.id)
        )
        return int(result.scalar_one())


async def test_first_returns_the_row_in_column_order(db: Database) -> None:
    member_id = await _add(db, "ada@example.com")
    query = db.prepare(PLAIN)
    try:
        row = await query.first(member_id=member_id)
        assert row is not None
        assert tuple(row) == (member_id, "ada@example.com", True)
        assert await query.first(member_id=member_id + 1000) is None
        assert query.direct is (db.engine.dialect.driver == "asyncpg")
    finally:
        await db.dispose()


async def test_each_read_sees_committed_changes(db: Database) -> None:
    member_id = await _add(db, "old@example.com")
    query = db.prepare(PLAIN)
    try:
        assert (await query.first(member_id=member_id))[1] == "old@example.com"  # type: ignore[index]
        async with db.sessionmaker() as session:
            await session.execute(
                update(Member).where(Member.id == member_id).values(email="new@example.com")
            )
            await session.commit()
        assert (await query.first(member_id=member_id))[1] == "new@example.com"  # type: ignore[index]
    finally:
        await db.dispose()


async def test_type_processing_is_applied_as_sqlalchemy_applies_it(db: Database) -> None:
    seen = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    member_id = await _add(db, "grace@example.com", seen)
    never_id = await _add(db, "never@example.com")
    query = db.prepare(PROCESSED)
    try:
        row = await query.first(member_id=member_id)
        assert row is not None
        assert row[1] == seen
        assert row[1].tzinfo is not None
        never = await query.first(member_id=never_id)
        assert never is not None
        assert never[1] is None
        # The same instant in another zone finds the row: the parameter was converted.
        other_zone = seen.astimezone(datetime.timezone(datetime.timedelta(hours=5)))
        found = await db.prepare(BY_SEEN).first(seen=other_zone)
        assert found is not None
        assert found[0] == "grace@example.com"
        async with db.autocommit_engine.connect() as connection:
            core = (await connection.execute(PROCESSED, {"member_id": member_id})).first()
        assert tuple(core) == tuple(row)  # type: ignore[arg-type]
        assert query.direct is (db.engine.dialect.driver == "asyncpg")
    finally:
        await db.dispose()


async def test_values_written_in_the_statement_are_sent_with_it(db: Database) -> None:
    # `Member.active == True` and `literal(...)` are parameters with values of their own:
    # read without them given, and overridden when they are (as Core does both).
    active = await _add(db, "on@example.com")
    inactive = await _add(db, "off@example.com")
    async with db.autocommit_engine.connect() as connection:
        await connection.execute(update(Member).where(Member.id == inactive).values(active=False))
        await connection.commit()
    query = db.prepare(
        select(Member.__table__.c.email, literal(7).label("seven")).where(
            Member.__table__.c.id == bindparam("member_id"),
            Member.__table__.c.active == True,  # noqa: E712 - SQL, not Python
        )
    )
    try:
        assert tuple(await query.first(member_id=active) or ()) == ("on@example.com", 7)
        assert await query.first(member_id=inactive) is None
        by_value = db.prepare(
            select(Member.__table__.c.email).where(Member.id == bindparam("n", active))
        )
        assert tuple(await by_value.first() or ()) == ("on@example.com",)
        assert tuple(await by_value.first(n=inactive) or ()) == ("off@example.com",)
    finally:
        await db.dispose()


async def test_a_missing_parameter_is_sqlalchemys_error(db: Database) -> None:
    query = db.prepare(PLAIN)
    try:
        with pytest.raises(StatementError, match="member_id"):
            await query.first()
        with pytest.raises(StatementError, match="member_id"):
            await query.first(other=1)
    finally:
        await db.dispose()


async def test_a_driver_error_reaches_the_app_as_sqlalchemy_error(db: Database) -> None:
    missing = table(f"p_missing_{SUFFIX}", column("id", Integer))
    query = db.prepare(select(missing.c.id).where(missing.c.id == bindparam("member_id")))
    try:
        with pytest.raises(DBAPIError):
            await query.first(member_id=1)
        # The pool still serves reads afterwards.
        member_id = await _add(db, "after@example.com")
        assert await db.prepare(PLAIN).first(member_id=member_id) is not None
    finally:
        await db.dispose()


async def test_a_read_cancelled_mid_statement_never_pools_a_busy_connection(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    if db.engine.dialect.driver != "asyncpg":
        pytest.skip("the direct driver path is asyncpg's")
    slow = db.prepare(select(func.pg_sleep(bindparam("seconds", type_=Float()))))
    try:
        member_id = await _add(db, "cancelled@example.com")
        for _ in range(3):  # more than once: each cancelled read lost its connection
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await slow.first(seconds=5)
            assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            row = await db.prepare(PLAIN).first(member_id=member_id)
            assert row is not None
            assert row[1] == "cancelled@example.com"
        # Nothing went back to the pool mid-statement, so no reset failed on one.
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        await db.dispose()


def test_prepare_refuses_a_statement_that_is_not_a_select(tmp_path: object) -> None:
    database = Database("sqlite+aiosqlite://")
    with pytest.raises(ConfigurationError, match=r"db-prepare-not-select.*select"):
        database.prepare(update(Member).values(email="x"))  # type: ignore[arg-type]
