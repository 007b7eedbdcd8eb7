"""`Audit.log`: the whole trail, newest first, filtered and paged with a cursor."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Book
from tests.audit.models import Tag

from trivium.audit import Audit
from trivium.audit import actor
from trivium.db import utcnow

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def test_log_filters_by_model_action_actor_request_and_time(
    session: AsyncSession, audit: Audit
) -> None:
    start = utcnow() - datetime.timedelta(seconds=1)
    with actor(1, request_id="req-1"):
        book = await Book.objects(session).create(title="a")
        await Tag.objects(session).create(name="t")
        await session.commit()
    with actor(2, request_id="req-2"):
        book.title = "b"
        await session.commit()
    everything = await audit.log(session)
    assert [(e.model, e.action) for e in everything] == [
        (Book.__tablename__, "update"),
        (Tag.__tablename__, "create"),
        (Book.__tablename__, "create"),
    ]
    assert [e.action for e in await audit.log(session, model=Book)] == ["update", "create"]
    assert len(await audit.log(session, model=Tag.__tablename__)) == 1
    assert [e.action for e in await audit.log(session, action="update")] == ["update"]
    assert [e.actor_id for e in await audit.log(session, actor_id=1)] == ["1", "1"]
    assert [e.request_id for e in await audit.log(session, request_id="req-2")] == ["req-2"]
    assert len(await audit.log(session, since=start)) == 3
    assert await audit.log(session, until=start) == []
    later = utcnow() + datetime.timedelta(seconds=1)
    assert await audit.log(session, since=later) == []
    page = await audit.log(session, limit=2)
    rest = await audit.log(session, limit=2, before=page[-1].id)
    assert [e.id for e in page + rest] == [e.id for e in everything]
