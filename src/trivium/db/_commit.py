"""Commit a request's session; a lone new row is written without `BEGIN` and `COMMIT`.

A handler that adds one row and reads nothing through its session (a form saving a
note, an API creating an item) would cost three round trips on PostgreSQL: `BEGIN`,
the `INSERT`, `COMMIT`. A transaction of one statement is that statement on its own, so
such a session is flushed on a connection in autocommit mode: one round trip, and the
same outcome (the row is written, or on any error it is not and the error is raised as
before). The session's `after_commit` listeners still run.

Anything that could make the flush more than one statement commits as usual: a read
or flush earlier in the request (a transaction is already open), several new rows, a
change or a delete, a related object, joined-table inheritance, a version counter, and
flush or insert listeners (the audit log writes its entries in the flush).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from trivium.db._direct import insert_directly

__all__ = ["close", "commit", "lone_insert"]

_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


def lone_insert(session: Session) -> bool:
    """Return whether flushing `session` is one `INSERT` and nothing else."""
    if not _unconnected(session):  # `add` begins a transaction, but takes no connection
        return False
    if session.deleted or session.dirty:
        return False
    new = session.new
    if len(new) != 1:
        return False
    events = session.dispatch
    if events.before_flush or events.after_flush or events.after_flush_postexec:
        return False
    (row,) = new
    state: Any = inspect(row)
    mapper = state.mapper
    if len(mapper.tables) != 1 or mapper.version_id_col is not None:
        return False
    if mapper.dispatch.before_insert or mapper.dispatch.after_insert:
        return False
    values = state.dict
    return all(_unset(values.get(key)) for key in mapper.relationships.keys())  # noqa: SIM118


def _unconnected(session: Session) -> bool:
    """Whether `session` has no transaction, or a root one that holds no connection."""
    transaction = session.get_transaction()
    return transaction is None or (
        not transaction.nested and transaction.parent is None and _connections(transaction) == {}
    )


def _connections(transaction: Any) -> object:
    # The connections the transaction has used; `None` (no fast path) should the
    # attribute ever go away.
    return getattr(transaction, "_connections", None)


def _unset(value: object) -> bool:
    return value is None or (isinstance(value, (list, set, dict)) and not value)


def _commit_alone(session: Session) -> None:
    session.connection(execution_options=_AUTOCOMMIT)
    session.commit()


async def close(session: AsyncSession) -> None:
    """Close `session`, as `async with` would; without a round trip when it holds no connection.

    A session that never used a connection (no query, or a row written on the driver by
    `insert_directly`) has nothing to roll back or return to the pool, so it is closed
    in place instead of in a task and a greenlet of its own.
    """
    sync = session.sync_session
    if _unconnected(sync):
        sync.close()
    else:
        await session.__aexit__(None, None, None)


async def commit(session: AsyncSession, *, lone_autocommit: bool) -> None:
    """Commit `session`; with `lone_autocommit`, a lone new row goes in autocommit.

    Such a row is written on the driver itself when `db/_direct.py` can do what the
    unit of work would, else flushed by the ORM on a connection in autocommit mode.
    """
    if lone_autocommit and lone_insert(session.sync_session):
        if not await insert_directly(session):
            await session.run_sync(_commit_alone)
    else:
        await session.commit()
