"""Composite and UUID primary keys are recorded as text and read back for history and revert."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.audit.models import Seat
from tests.audit.models import Ticket

from trivium.audit import Audit
from trivium.audit import encode_pk

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def test_a_composite_key_is_a_json_array(session: AsyncSession, audit: Audit) -> None:
    seat = await Seat.objects(session).create(room="A", number=7, holder="ada")
    await session.commit()
    seat.holder = "grace"
    await session.commit()
    updated, created = await audit.history(session, Seat, ("A", 7))
    assert json.loads(created.object_pk) == ["A", 7] == json.loads(encode_pk(("A", 7)))
    assert updated.changes == {"holder": ["ada", "grace"]}
    restored = await audit.revert(session, created)
    await session.commit()
    assert restored.holder == "ada"
    await session.delete(restored)
    await session.commit()
    deleted = (await audit.history(session, Seat, ("A", 7)))[0]
    back = await audit.revert(session, deleted, to="before")
    await session.commit()
    assert (back.room, back.number, back.holder) == ("A", 7, "ada")


async def test_a_uuid_key_is_its_text(session: AsyncSession, audit: Audit) -> None:
    ticket = await Ticket.objects(session).create(subject="printer")
    await session.commit()
    ticket_id = ticket.id
    await session.delete(ticket)
    await session.commit()
    deleted, created = await audit.history(session, Ticket, ticket_id)
    assert created.object_pk == str(ticket_id)
    assert created.after["id"] == str(ticket_id)
    back = await audit.revert(session, deleted, to="before")
    await session.commit()
    assert (back.id, back.subject) == (ticket_id, "printer")
