"""`Audit.revert(fields=...)` writes only the fields given; `revert_changes` says what would change."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Book
from tests.audit.models import Tag

from trivium.audit import Audit

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def test_fields_restricts_what_a_revert_writes(session: AsyncSession, audit: Audit) -> None:
    sf = await Tag.objects(session).create(name="sf")
    old = await Tag.objects(session).create(name="old")
    book = Book(title="v1", pages=10, tags=[sf])
    session.add(book)
    await session.commit()
    book.title, book.pages, book.tags = "v2", 20, [old]
    await session.commit()
    created = (await audit.history(session, Book, book.id))[-1]
    assert await audit.revert_changes(session, created) == {
        "title": "v1",
        "pages": 10,
        "tags": [sf.id],
    }
    await audit.revert(session, created, fields=["title", "tags"])
    await session.commit()
    await session.refresh(book, ["title", "pages", "tags"])
    assert (book.title, book.pages, [t.name for t in book.tags]) == ("v1", 20, ["sf"])
    entry = (await audit.history(session, Book, book.id))[0]
    assert set(entry.changes) == {"title", "tags"}  # pages was left alone
    assert await audit.revert_changes(session, created) == {"pages": 10}


async def test_fields_given_a_revert_of_a_delete_still_recreates_the_object(
    session: AsyncSession, audit: Audit
) -> None:
    book = await Book.objects(session).create(title="Gone", pages=5)
    await session.commit()
    book_id = book.id
    await session.delete(book)
    await session.commit()
    deleted = (await audit.history(session, Book, book_id))[0]
    assert await audit.revert_changes(session, deleted) is None  # after it: deleted
    assert (await audit.revert_changes(session, deleted, to="before") or {})["pages"] == 5
    back = await audit.revert(session, deleted, to="before", fields=["title"])
    await session.commit()
    # Created again whole: a missing object has no values of its own to keep.
    assert (back.id, back.title, back.pages) == (book_id, "Gone", 5)


async def test_fields_naming_nothing_of_the_model_is_refused(
    session: AsyncSession, audit: Audit
) -> None:
    book = await Book.objects(session).create(title="v1")
    await session.commit()
    (created,) = await audit.history(session, Book, book.id)
    with pytest.raises(ValueError, match=r"\['nope'\]"):
        await audit.revert(session, created, fields=["title", "nope"])
    with pytest.raises(ValueError, match="not the string"):
        await audit.revert(session, created, fields="title")
