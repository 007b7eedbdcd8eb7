"""A key used again after a delete starts a new history: `history` and `revert` keep them apart.

SQLite reuses the highest deleted `INTEGER PRIMARY KEY` id by itself; on the other
databases the tests give the new object the deleted one's id, as a natural key would.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Book

from trivium.audit import Audit
from trivium.audit import AuditEntry
from trivium.db import Database

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


def _same_id(db: Database, old_id: int) -> dict[str, Any]:
    """Let SQLite reuse the id by itself; name it elsewhere."""
    return {} if db.url.get_backend_name() == "sqlite" else {"id": old_id}


async def _reused(db: Database, session: AsyncSession) -> tuple[int, list[AuditEntry]]:
    """Alice's book 2 (created, updated, deleted), then Bob's book with the same id."""
    await Book.objects(session).create(title="first", pages=1)
    old = await Book.objects(session).create(title="alice's plan", pages=2)
    await session.commit()
    old_id = old.id
    old.pages = 3
    await session.commit()
    old_entries = await audit_of(session, old_id)
    await session.delete(old)
    await session.commit()
    new = await Book.objects(session).create(title="bob's note", pages=9, **_same_id(db, old_id))
    await session.commit()
    assert new.id == old_id  # SQLite gave the deleted id again
    return old_id, old_entries


async def audit_of(session: AsyncSession, pk: int) -> list[AuditEntry]:
    found = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.model == Book.__tablename__, AuditEntry.object_pk == str(pk))
        .order_by(AuditEntry.id.desc())
    )
    return list(found)


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_history_shows_only_the_object_that_has_the_key_now(
    db: Database, session: AsyncSession, audit: Audit
) -> None:
    pk, _ = await _reused(db, session)
    history = await audit.history(session, Book, pk)
    assert [(e.action, e.after.get("title")) for e in history] == [("create", "bob's note")]
    every = await audit.history(session, Book, pk, all_lives=True)
    assert [e.action for e in every] == ["create", "delete", "update", "create"]
    assert [e.action for e in await audit.history(session, Book, pk, limit=5)] == ["create"]


async def test_entries_of_the_deleted_object_cannot_be_reverted_over_the_new_one(
    db: Database, session: AsyncSession, audit: Audit
) -> None:
    pk, (updated, created) = await _reused(db, session)
    deleted = (await audit.history(session, Book, pk, all_lives=True))[1]
    assert deleted.action == "delete"
    before = await _count(session)
    for entry, to in ((created, "after"), (updated, "after"), (updated, "before")):
        with pytest.raises(ValueError, match="earlier Book"):
            await audit.revert(session, entry, to=to)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="overwrite it"):
            await audit.revert_changes(session, entry, to=to)  # type: ignore[arg-type]
    # Undoing the delete would bring Alice's book back over Bob's.
    with pytest.raises(ValueError, match="another object"):
        await audit.revert(session, deleted, to="before")
    await session.commit()
    session.expire_all()
    book = await session.get(Book, pk)
    assert book is not None
    assert (book.title, book.pages) == ("bob's note", 9)
    assert await _count(session) == before  # nothing written


async def test_the_new_object_reverts_within_its_own_history(
    db: Database, session: AsyncSession, audit: Audit
) -> None:
    pk, _ = await _reused(db, session)
    book = await session.get(Book, pk)
    assert book is not None
    book.title = "bob's second note"
    await session.commit()
    _, created = await audit.history(session, Book, pk)
    restored = await audit.revert(session, created)
    await session.commit()
    # Bob's own first version: nothing of Alice's deleted book folded in.
    assert (restored.title, restored.pages) == ("bob's note", 9)


async def test_a_deleted_key_shows_its_last_object_and_its_delete_can_be_undone(
    db: Database, session: AsyncSession, audit: Audit
) -> None:
    pk, (alice_update, alice_create) = await _reused(db, session)
    bob = await session.get(Book, pk)
    assert bob is not None
    bob.pages = 10
    await session.commit()
    await session.delete(bob)
    await session.commit()
    history = await audit.history(session, Book, pk)
    assert [e.action for e in history] == ["delete", "update", "create"]
    assert [history[0].before["title"], history[2].after["title"]] == ["bob's note"] * 2
    with pytest.raises(ValueError, match="used again"):
        await audit.revert(session, alice_update)
    with pytest.raises(ValueError, match="used again"):
        await audit.revert(session, alice_create)
    assert await session.get(Book, pk) is None
    back = await audit.revert(session, history[0], to="before")  # undo Bob's delete
    await session.commit()
    assert (back.id, back.title, back.pages) == (pk, "bob's note", 10)


async def test_an_update_of_an_object_deleted_without_an_entry_is_refused(
    session: AsyncSession, audit: Audit
) -> None:
    book = await Book.objects(session).create(title="v1", pages=1)
    await session.commit()
    book.title = "v2"
    await session.commit()
    pk = book.id
    _, created = await audit.history(session, Book, pk)
    # A raw statement: not recorded, so the trail has no snapshot to rebuild the book from.
    await session.execute(text(f"DELETE FROM {Book.__tablename__} WHERE id = :id"), {"id": pk})
    await session.commit()
    session.expunge_all()
    with pytest.raises(ValueError, match="deletion was not recorded"):
        await audit.revert(session, created)  # the update would be undone on nothing


async def test_an_object_brought_back_by_reverting_its_delete_keeps_its_history(
    session: AsyncSession, audit: Audit
) -> None:
    book = await Book.objects(session).create(title="v1", pages=1)
    await session.commit()
    book.title = "v2"
    await session.commit()
    pk = book.id
    await session.delete(book)
    await session.commit()
    deleted, updated, _ = await audit.history(session, Book, pk)
    await audit.revert(session, deleted, to="before")
    await session.commit()
    # The restore puts back what the delete recorded: the same object, one history.
    history = await audit.history(session, Book, pk)
    assert [e.action for e in history] == ["create", "delete", "update", "create"]
    restored = await audit.revert(session, updated, to="before")
    await session.commit()
    assert (restored.id, restored.title) == (pk, "v1")
