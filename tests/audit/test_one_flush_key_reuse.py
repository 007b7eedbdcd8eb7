"""Deleting an object and adding another with its key in one flush records both writes."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Book

from trivium.audit import Audit
from trivium.db import Database

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def test_a_delete_and_a_create_of_one_key_in_one_flush(
    db: Database, session: AsyncSession, audit: Audit
) -> None:
    old = await Book.objects(session).create(title="old", pages=1)
    await session.commit()
    key = old.id
    await session.delete(old)
    session.add(Book(id=key, title="new", pages=2))
    await session.commit()
    every = await audit.history(session, Book, key, all_lives=True)
    assert [e.action for e in every] == ["create", "delete", "create"]
    current = await audit.history(session, Book, key)
    assert [(e.action, e.after.get("title")) for e in current] == [("create", "new")]
