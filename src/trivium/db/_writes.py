"""`get_or_create` and `update_or_create` without duplicates or errors under concurrency.

The lookups must name a unique constraint, as in Django. The insert runs in a savepoint:
a caller that loses the race gets the constraint's error, rolls back only the savepoint
and reads the winner's row with a locking read (which, unlike a plain read, sees rows
committed after the transaction's snapshot under MariaDB's REPEATABLE READ).

MariaDB/MySQL need one more step: a failed duplicate insert keeps a shared lock on the
existing row, so several losers that then ask to update it would deadlock. There the
create path of one set of lookups is serialised with a named lock (`GET_LOCK`), held
until the insert or locking read is done.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.db._query import QuerySet

__all__ = ["create_or_get", "resolved"]

_LOCK_TIMEOUT = 10
"""Seconds to wait for the named lock before going ahead without it (the savepoint still protects)."""


def resolved(defaults: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return `defaults` with callables called, as Django does."""
    return {key: value() if callable(value) else value for key, value in (defaults or {}).items()}


@contextlib.asynccontextmanager
async def _serialised(
    session: AsyncSession, table: str, lookups: dict[str, Any]
) -> AsyncIterator[None]:
    connection = await session.connection()
    if connection.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    digest = hashlib.sha1(repr(sorted(lookups.items())).encode(), usedforsecurity=False)
    name = f"trivium:{table[:20]}:{digest.hexdigest()}"
    await session.execute(
        text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": _LOCK_TIMEOUT}
    )
    try:
        yield
    finally:
        try:
            await session.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
        except Exception:
            # A named lock outlives transactions: rather than pool a connection still
            # holding it, drop the connection (the server then releases the lock).
            await session.invalidate()
            raise


async def create_or_get(
    query: QuerySet[Any],
    lookups: dict[str, Any],
    defaults: Mapping[str, Any] | None,
    lock: Literal["share", "update"],
) -> tuple[Any, bool]:
    """Insert the row of `lookups` and `defaults`, or return the one a concurrent caller made."""
    session = query.session
    locked = query.select_for_update() if lock == "update" else query._copy(_for_update="share")
    async with _serialised(session, query.model.__tablename__, lookups):
        found = await locked.get_or_none(**lookups)
        if found is not None:
            return found, False
        values = {key: value for key, value in lookups.items() if "__" not in key}
        values.update(resolved(defaults))
        try:
            async with session.begin_nested():
                row = query.model(**values)
                session.add(row)
                await session.flush()
        except IntegrityError:
            found = await locked.get_or_none(**lookups)
            if found is None:
                raise
            return found, False
        return row, True
