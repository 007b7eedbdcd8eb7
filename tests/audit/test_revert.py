"""`Audit.revert` puts an object back as an entry recorded it, and is itself audited."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Account
from tests.audit.models import Book
from tests.audit.models import Tag

from trivium.audit import Audit

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def test_revert_to_after_an_update_undoes_the_later_ones(
    session: AsyncSession, audit: Audit
) -> None:
    book = await Book.objects(session).create(title="v1", pages=10)
    await session.commit()
    for title, pages in (("v2", 20), ("v3", 30)):
        book.title, book.pages = title, pages
        await session.commit()
    newest, middle, created = await audit.history(session, Book, book.id)
    assert [e.action for e in (newest, middle, created)] == ["update", "update", "create"]
    restored = await audit.revert(session, middle, actor=7)
    await session.commit()
    assert (restored.title, restored.pages) == ("v2", 20)
    revert_entry = (await audit.history(session, Book, book.id))[0]
    assert revert_entry.changes == {"title": ["v3", "v2"], "pages": [30, 20]}
    assert (revert_entry.actor_kind, revert_entry.actor_id) == ("user", "7")
    await audit.revert(session, middle, to="before")
    await session.commit()
    await session.refresh(book)
    assert (book.title, book.pages) == ("v1", 10)


async def test_reverting_a_delete_brings_the_object_back(
    session: AsyncSession, audit: Audit
) -> None:
    book = await Book.objects(session).create(title="Gone", pages=5)
    await session.commit()
    book_id, created_at = book.id, book.created_at
    await session.delete(book)
    await session.commit()
    deleted = (await audit.history(session, Book, book_id))[0]
    assert await audit.revert(session, deleted) is None  # after the delete: not there
    back = await audit.revert(session, deleted, to="before")
    await session.commit()
    assert (back.id, back.title, back.pages, back.created_at) == (book_id, "Gone", 5, created_at)
    assert (await audit.history(session, Book, book_id))[0].action == "create"


async def test_reverting_a_create_deletes_the_object(session: AsyncSession, audit: Audit) -> None:
    book = await Book.objects(session).create(title="Oops")
    await session.commit()
    (created,) = await audit.history(session, Book, book.id)
    assert await audit.revert(session, created, to="before") is None
    await session.commit()
    assert await Book.objects(session).count() == 0
    assert (await audit.history(session, Book, book.id))[0].action == "delete"


async def test_revert_restores_many_to_many_links(session: AsyncSession, audit: Audit) -> None:
    sf = await Tag.objects(session).create(name="sf")
    old = await Tag.objects(session).create(name="old")
    book = Book(title="Dune", tags=[sf])
    session.add(book)
    await session.commit()
    book.tags = [old]
    await session.commit()
    first = (await audit.history(session, Book, book.id))[-1]
    await audit.revert(session, first)
    await session.commit()
    await session.refresh(book, ["tags"])
    assert [t.name for t in book.tags] == ["sf"]


async def test_secrets_are_not_restored(session: AsyncSession, audit: Audit) -> None:
    account = await Account.objects(session).create(username="ada", password_hash="h1")
    await session.commit()
    account.password_hash, account.note = "h2", "changed"
    await session.commit()
    created = (await audit.history(session, Account, account.id))[-1]
    await audit.revert(session, created)
    await session.commit()
    assert (account.password_hash, account.note) == ("h2", "")


async def test_revert_refuses_an_unknown_direction(session: AsyncSession, audit: Audit) -> None:
    book = await Book.objects(session).create(title="x")
    await session.commit()
    (entry,) = await audit.history(session, Book, book.id)
    with pytest.raises(ValueError, match="after"):
        await audit.revert(session, entry, to="sideways")  # type: ignore[arg-type]


async def test_history_is_newest_first_and_limited(session: AsyncSession, audit: Audit) -> None:
    book = await Book.objects(session).create(title="t0")
    await session.commit()
    for n in range(1, 5):
        book.title = f"t{n}"
        await session.commit()
    entries = await audit.history(session, Book, book.id)
    assert [e.after["title"] for e in entries] == ["t4", "t3", "t2", "t1", "t0"]
    assert [e.id for e in await audit.history(session, Book, book.id, limit=2)] == [
        entries[0].id,
        entries[1].id,
    ]
    assert await audit.history(session, Book, book.id + 1) == []
