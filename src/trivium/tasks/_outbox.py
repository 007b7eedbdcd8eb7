"""The transactional outbox: runs enqueued inside a database transaction.

`task.options(session=session).enqueue(...)` adds a row to `trivium_task_outbox` in the
session's transaction instead of sending the message. When the transaction commits,
the rows are relayed to the transport and deleted; when it rolls back they never
existed. Rows whose relay was interrupted (the process died right after the commit)
are relayed by the sweep that every app process and worker runs every few seconds, so
a committed run is never lost. A row relayed twice (a crash between sending and
deleting) is sent twice with one id; the worker runs an id that is done only once.
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import Float
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium.db import Model
from trivium.db import UTCDateTime
from trivium.db import utcnow

__all__ = ["MISSING_TABLE", "OUTBOX_TABLE", "OutboxEntry", "has_table"]

OUTBOX_TABLE = "trivium_task_outbox"
"""The outbox's table name."""

MISSING_TABLE = (
    f"the task outbox's table {OUTBOX_TABLE} does not exist in the database; create it "
    "with `trivium db migrate` (its migrations come with trivium.tasks), or "
    "`await db.create_all()` in tests"
)
"""What to say when the outbox's table is missing."""


class OutboxEntry(Model):
    """A task run enqueued in a transaction, waiting to be relayed once it commits."""

    __tablename__ = OUTBOX_TABLE
    __table_args__ = (Index("ix_trivium_task_outbox_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """The run's id."""
    queue: Mapped[str] = mapped_column(String(200))
    """The queue it goes to."""
    message: Mapped[str] = mapped_column(Text())
    """The message (JSON)."""
    eta: Mapped[float | None] = mapped_column(Float(), default=None)
    """When a delayed run is due (Unix time)."""
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    """When the row was written."""


def entry(message: dict[str, Any], data: bytes) -> OutboxEntry:
    """Return the outbox row of a message."""
    return OutboxEntry(
        id=message["id"], queue=message["queue"], message=data.decode(), eta=message.get("eta")
    )


async def has_table(connection: Any) -> bool:
    """Return whether the database of `connection` (an `AsyncConnection`) has the outbox's table."""
    from sqlalchemy import inspect

    table: Any = OutboxEntry.__table__
    found: bool = await connection.run_sync(
        lambda sync: inspect(sync).has_table(table.name, schema=table.schema)
    )
    return found
