"""Many-to-many link changes are recorded on every side that maps the relationship."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Book
from tests.audit.models import Tag

from trivium.audit import Audit
from trivium.audit import AuditEntry

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def last_of(session: AsyncSession, model: type, pk: int) -> AuditEntry:
    query = (
        select(AuditEntry)
        .where(AuditEntry.model == model.__tablename__, AuditEntry.object_pk == str(pk))
        .order_by(AuditEntry.id.desc())
    )
    found = (await session.scalars(query)).first()
    assert found is not None
    return found


async def setup(session: AsyncSession) -> tuple[Book, Tag, Tag]:
    book = await Book.objects(session).create(title="Dune")
    sf = await Tag.objects(session).create(name="sf")
    classic = await Tag.objects(session).create(name="classic")
    await session.commit()
    return book, sf, classic


async def test_adding_and_removing_links_records_both_sides(session: AsyncSession) -> None:
    book, sf, classic = await setup(session)
    await session.refresh(book, ["tags"])
    book.tags.append(sf)
    book.tags.append(classic)
    await session.commit()
    entry = await last_of(session, Book, book.id)
    assert (entry.action, entry.changes) == ("update", {"tags": [[], sorted([sf.id, classic.id])]})
    assert (await last_of(session, Tag, sf.id)).changes == {"books": [[], [book.id]]}
    book.tags.remove(sf)
    await session.commit()
    assert (await last_of(session, Book, book.id)).changes == {
        "tags": [sorted([sf.id, classic.id]), [classic.id]]
    }
    assert (await last_of(session, Tag, sf.id)).changes == {"books": [[book.id], []]}


async def test_a_change_made_on_the_reverse_side_is_recorded_on_each_model(
    session: AsyncSession, audit: Audit
) -> None:
    book, sf, _ = await setup(session)
    await session.refresh(sf, ["books"])
    sf.books.append(book)  # the book's collection is not loaded
    await session.commit()
    book_entry = await last_of(session, Book, book.id)
    tag_entry = await last_of(session, Tag, sf.id)
    assert book_entry.changes == {"tags": [[], [sf.id]]}
    assert tag_entry.changes == {"books": [[], [book.id]]}
    assert book_entry.request_id == tag_entry.request_id
    assert len(await audit.history(session, Book, book.id)) == 2  # create, link


async def test_deleting_an_object_records_its_links_gone_on_the_other_side(
    session: AsyncSession,
) -> None:
    book, sf, _ = await setup(session)
    await session.refresh(book, ["tags"])
    book.tags.append(sf)
    await session.commit()
    await session.delete(book)
    await session.commit()
    assert (await last_of(session, Book, book.id)).action == "delete"
    assert (await last_of(session, Tag, sf.id)).changes == {"books": [[book.id], []]}


async def test_a_new_object_with_links_records_them_in_its_create_entry(
    session: AsyncSession,
) -> None:
    _, sf, classic = await setup(session)
    book = Book(title="Solaris", tags=[sf, classic])
    session.add(book)
    await session.commit()
    entry = await last_of(session, Book, book.id)
    assert entry.action == "create"
    assert entry.changes["tags"] == [[], sorted([sf.id, classic.id])]
    assert entry.changes["title"] == [None, "Solaris"]
