"""`Audit.log(model=[...])`: the entries of any of several models, filtered in the query."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Account
from tests.audit.models import Book
from tests.audit.models import Tag

from trivium.audit import Audit

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def test_log_takes_a_collection_of_models_or_tables(
    session: AsyncSession, audit: Audit
) -> None:
    await Book.objects(session).create(title="b")
    await Tag.objects(session).create(name="t")
    for number in range(3):
        await Account.objects(session).create(username=f"a{number}")
    await session.commit()
    books, tags = Book.__table__.name, Tag.__table__.name  # type: ignore[attr-defined]
    page = await audit.log(session, model=[Book, tags], limit=2)
    assert sorted(e.model for e in page) == sorted([books, tags])  # the accounts are skipped
    assert [e.model for e in await audit.log(session, model={books})] == [books]
    assert await audit.log(session, model=[]) == []
