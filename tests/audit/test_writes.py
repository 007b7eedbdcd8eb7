"""Unit-of-work writes (add, change, delete, flush) each leave one entry in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Account
from tests.audit.models import Author
from tests.audit.models import Book

from trivium.audit import REDACTED
from trivium.audit import Audit
from trivium.audit import AuditEntry
from trivium.audit import actor
from trivium.db import Database

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def entries(session: AsyncSession) -> list[AuditEntry]:
    return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def test_create_update_delete_are_recorded_with_before_and_after(
    session: AsyncSession, audit: Audit
) -> None:
    book = await Book.objects(session).create(title="Dune", pages=412)
    await session.commit()
    book.title = "Dune Messiah"
    book.pages = 256
    await session.commit()
    await session.delete(book)
    await session.commit()
    created, updated, deleted = await entries(session)
    assert (created.action, created.model, created.object_pk) == (
        "create",
        Book.__tablename__,
        str(book.id),
    )
    assert created.changes["title"] == [None, "Dune"]
    assert created.changes["pages"] == [None, 412]
    assert created.after["id"] == book.id
    assert updated.action == "update"
    assert updated.changes == {"title": ["Dune", "Dune Messiah"], "pages": [412, 256]}
    assert deleted.action == "delete"
    assert deleted.before["title"] == "Dune Messiah"
    assert deleted.after == {}
    assert [e.actor_kind for e in (created, updated, deleted)] == ["system"] * 3
    assert [e.actor_id for e in (created, updated, deleted)] == ["system"] * 3  # as documented
    history = await audit.history(session, Book, book.id)
    assert [e.id for e in history] == [deleted.id, updated.id, created.id]


async def test_a_flush_without_changes_writes_nothing(session: AsyncSession) -> None:
    book = await Book.objects(session).create(title="Emma")
    await session.commit()
    book.title = "Emma"
    await session.commit()
    assert [e.action for e in await entries(session)] == ["create"]


async def test_secret_fields_are_redacted(session: AsyncSession) -> None:
    account = await Account.objects(session).create(
        username="ada", password_hash="argon2$x", pin="1234"
    )
    await session.commit()
    account.password_hash = "argon2$y"
    account.pin = "9999"
    account.note = "rotated"
    await session.commit()
    created, updated = await entries(session)
    assert created.changes["password_hash"] == [None, REDACTED]
    assert created.changes["pin"] == [None, REDACTED]
    assert created.changes["username"] == [None, "ada"]
    assert updated.changes == {
        "password_hash": [REDACTED, REDACTED],
        "pin": [REDACTED, REDACTED],
        "note": ["", "rotated"],
    }
    stored = (await session.execute(text("SELECT changes FROM trivium_audit"))).all()
    assert "argon2" not in repr(stored)
    assert "1234" not in repr(stored)


async def test_a_rolled_back_transaction_leaves_no_entry(session: AsyncSession) -> None:
    await Book.objects(session).create(title="Lost")
    await session.rollback()
    assert await entries(session) == []
    assert await Book.objects(session).count() == 0


async def test_a_failing_audit_insert_rolls_the_write_back(db: Database, audit: Audit) -> None:
    del audit
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE trivium_audit")
    try:
        async with db.sessionmaker() as session:
            with pytest.raises(DBAPIError):
                await Book.objects(session).create(title="Unaudited")
            await session.rollback()
            assert await Book.objects(session).count() == 0
    finally:
        await db.create_all()
        await db.dispose()


async def test_reverse_side_change_is_recorded_on_the_changed_row(session: AsyncSession) -> None:
    author = await Author.objects(session).create(name="Le Guin")
    book = await Book.objects(session).create(title="Earthsea")
    await session.commit()
    await session.refresh(author, ["books"])
    author.books.append(book)  # the author's side; the row that changes is the book's
    await session.commit()
    last = (await entries(session))[-1]
    assert (last.model, last.object_pk, last.action) == (Book.__tablename__, str(book.id), "update")
    assert last.changes["author_id"] == [None, author.id]


async def test_actor_names_the_writer_of_a_script(session: AsyncSession) -> None:
    with actor(name="nightly-import", request_id="job-7"):
        await Book.objects(session).create(title="Batch")
        await session.commit()
    with actor(42):
        await Book.objects(session).filter(title="Batch").update(pages=3)
        await session.commit()
    first, second = await entries(session)
    assert (first.actor_kind, first.actor_id, first.request_id) == (
        "system",
        "nightly-import",
        "job-7",
    )
    assert (second.actor_kind, second.actor_id) == ("user", "42")


async def test_old_values_never_loaded_are_read_before_the_flush(session: AsyncSession) -> None:
    await Book.objects(session).create(title="Dune", pages=412)
    await session.commit()
    session.expunge_all()
    book = await Book.objects(session).only("title").get(title="Dune")
    book.pages = 500  # deferred: its old value was never loaded
    await session.commit()
    session.expunge_all()
    book = await Book.objects(session).get(title="Dune")
    session.expire(book, ["pages", "title"])  # no longer in the session
    await session.delete(book)
    await session.commit()
    _, updated, deleted = await entries(session)
    assert updated.changes == {"pages": [412, 500]}
    assert deleted.before["pages"] == 500
    assert deleted.before["title"] == "Dune"


def test_actor_refuses_names_the_trail_cannot_hold() -> None:
    with pytest.raises(ValueError, match="64"), actor(name="x" * 65):
        pass
    with pytest.raises(ValueError, match="128"), actor(request_id="r" * 129):
        pass
    with pytest.raises(TypeError, match="not both"), actor(1, name="job"):
        pass


async def test_a_failing_audit_insert_fails_a_bulk_update(db: Database, audit: Audit) -> None:
    del audit
    async with db.sessionmaker() as session:
        await Book.objects(session).create(title="Kept", pages=1)
        await session.commit()
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE trivium_audit")
    try:
        async with db.sessionmaker() as session:
            with pytest.raises(DBAPIError):
                await Book.objects(session).update(pages=2)
            await session.rollback()
            assert await Book.objects(session).filter(pages=1).count() == 1
    finally:
        await db.create_all()
        await db.dispose()
