"""Bulk `update()`/`delete()` are recorded row by row, in a fixed number of extra statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Account
from tests.audit.models import Author
from tests.audit.models import Book

from trivium.audit import REDACTED
from trivium.audit import Audit
from trivium.audit import AuditEntry
from trivium.db import Database

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    """Collect the SQL statements sent to the database (one per cursor execution)."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        del conn, cursor, args
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


async def entries(session: AsyncSession, action: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return list((await session.scalars(query)).all())


async def add_books(session: AsyncSession, count: int) -> None:
    await Book.objects(session).bulk_create([{"title": f"b{n}", "pages": n} for n in range(count)])
    await session.commit()


async def test_bulk_update_records_each_row_with_its_old_and_new_values(
    session: AsyncSession,
) -> None:
    await add_books(session, 5)
    changed = (
        await Book.objects(session).filter(pages__gte=3).update(title="long", pages=Book.pages * 10)
    )
    await session.commit()
    assert changed == 2
    updates = await entries(session, "update")
    assert sorted((e.changes["title"][0], e.changes["pages"]) for e in updates) == [
        ("b3", [3, 30]),
        ("b4", [4, 40]),
    ]
    assert {e.changes["title"][1] for e in updates} == {"long"}
    assert all(e.model == Book.__tablename__ for e in updates)


async def test_bulk_delete_records_each_row_in_full(session: AsyncSession) -> None:
    await add_books(session, 4)
    assert await Book.objects(session).filter(pages__lt=2).delete() == 2
    await session.commit()
    deletes = await entries(session, "delete")
    assert sorted(e.before["title"] for e in deletes) == ["b0", "b1"]
    assert all(e.after == {} for e in deletes)


async def test_bulk_update_redacts_secrets(session: AsyncSession) -> None:
    await Account.objects(session).create(username="ada", password_hash="old")
    await Account.objects(session).update(password_hash="new")
    await session.commit()
    (entry,) = await entries(session, "update")
    assert entry.changes == {"password_hash": [REDACTED, REDACTED]}


async def test_update_by_primary_key_records_each_row(session: AsyncSession) -> None:
    await add_books(session, 3)
    ids = (await session.scalars(select(Book.id).order_by(Book.id))).all()
    await session.execute(
        update(Book), [{"id": ids[0], "pages": 100}, {"id": ids[2], "title": "z"}]
    )
    await session.commit()
    updates = await entries(session, "update")
    assert {e.object_pk: e.changes for e in updates} == {
        str(ids[0]): {"pages": [0, 100]},
        str(ids[2]): {"title": ["b2", "z"]},
    }


async def test_orm_insert_statements_record_each_new_row(session: AsyncSession) -> None:
    await session.execute(insert(Book), [{"title": "a", "pages": 1}, {"title": "b", "pages": 2}])
    await session.execute(insert(Book).values(title="c", pages=3))
    await session.execute(insert(Book), {"title": "d", "pages": 4})
    await session.commit()
    ids = {b.title: b.id for b in await Book.objects(session).all()}
    creates = await entries(session, "create")
    assert {e.object_pk: (e.after["title"], e.after["pages"], e.after["id"]) for e in creates} == {
        str(ids[t]): (t, p, ids[t]) for t, p in (("a", 1), ("b", 2), ("c", 3), ("d", 4))
    }


async def test_a_rolled_back_bulk_update_leaves_no_entry(session: AsyncSession) -> None:
    await add_books(session, 3)
    await Book.objects(session).update(pages=0)
    await session.rollback()
    assert await entries(session, "update") == []
    assert await Book.objects(session).filter(pages=0).count() == 1


@pytest.mark.parametrize("rows", [300, 3000])
async def test_bulk_writes_cost_a_fixed_number_of_extra_statements(db: Database, rows: int) -> None:
    """A bulk update or delete of any size costs the same few extra statements when audited.

    Measured against the same statement on an unaudited model (`Author` is excluded).
    """
    audit = Audit(db, exclude=[Author])
    try:
        async with db.sessionmaker() as session:
            await add_books(session, rows)
            await Author.objects(session).bulk_create([{"name": f"a{n}"} for n in range(rows)])
            await session.commit()
            with counting(db) as plain:
                assert await Author.objects(session).update(name="x") == rows
                await Author.objects(session).filter(id__gt=0).delete()
            with counting(db) as audited:
                assert await Book.objects(session).update(pages=Book.pages + 1) == rows
                await Book.objects(session).filter(id__gt=0).delete()
            await session.commit()
            extra = len(audited) - len(plain)
            assert extra <= 3 * 2 * max(1, rows // 1000)  # the budget: ≤ 3 per 1,000 rows
            assert (
                extra <= 6
            )  # in fact: one SELECT and an INSERT per bulk statement, ~1,000 rows a page
            assert len(await entries(session, "update")) == rows
            assert len(await entries(session, "delete")) == rows
    finally:
        audit.close()
        await db.dispose()
