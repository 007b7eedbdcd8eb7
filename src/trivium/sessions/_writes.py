"""Writes that never bring back a session deleted since a request loaded it.

Requests that carry one cookie can overlap: a slow request loads the session, a logout
deletes it, then the slow request saves its change. A plain `set` would create the
deleted session again, user and all, and the old cookie would be logged in once more;
the same goes for a session another request rotated (a login) or flushed meanwhile. So a
session that existed when it was loaded is only ever overwritten (`replace`), never
created, and a rotated session's old id must still be there when it is deleted (`take`)
for the new id to be saved: a session gone meanwhile stays gone.

The `Store` protocol has no conditional write, so this module gives one per built-in
store, each a single atomic step: `MemoryStore` reads and writes without yielding to the
event loop in between, `RedisStore` uses `SET ... XX` and the count `DEL` returns,
`DatabaseStore` an `UPDATE` or `DELETE` of the live row and its row count. Any other
store is checked with a `get` first, which leaves a window of one store round trip.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING
from typing import Any

from trivium.stores import Store

if TYPE_CHECKING:
    from trivium.stores import DatabaseStore
    from trivium.stores import RedisStore

__all__ = ["ExistingWrites", "existing_writes"]


class ExistingWrites:
    """Overwrite or delete keys of a store only while they exist (any store: checked first)."""

    __slots__ = ("store",)

    def __init__(self, store: Store) -> None:
        self.store = store
        """The store written to."""

    async def replace(self, key: str, value: bytes, ttl: float | None) -> bool:
        """Store `value` under `key` if the key exists; return whether it did."""
        # On a `MemoryStore` neither call yields to the event loop: no request can run
        # in between, so the check and the write are one step.
        if await self.store.get(key) is None:
            return False
        await self.store.set(key, value, ttl)
        return True

    async def take(self, key: str) -> bool:
        """Delete `key`; return whether it existed."""
        existed = await self.store.get(key) is not None
        await self.store.delete(key)
        return existed


class _RedisWrites(ExistingWrites):
    """`SET ... XX` and `DEL`'s count: Redis decides, in one command each."""

    __slots__ = ("errors", "redis")

    def __init__(self, store: RedisStore) -> None:
        super().__init__(store)
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self.redis = store
        self.errors = (RedisConnectionError, RedisTimeoutError, OSError)

    async def replace(self, key: str, value: bytes, ttl: float | None) -> bool:
        """Store `value` under `key` if the key exists (`SET ... XX`)."""
        store = self.redis
        px = None if ttl is None else max(1, math.ceil(ttl * 1000))
        return bool(await self._run(store.client.set(store.prefix + key, value, px=px, xx=True)))

    async def take(self, key: str) -> bool:
        """Delete `key` (`DEL`); return whether it existed."""
        store = self.redis
        return bool(await self._run(store.client.delete(store.prefix + key)))

    async def _run(self, command: Any) -> Any:
        """Await a redis-py command; an unreachable Redis is the store's outage (a 503)."""
        outage = self.redis.outage
        try:
            result = await command
        except self.errors as exc:
            raise outage.unavailable(exc) from exc
        if outage.down_since is not None:
            outage.recovered()
        return result


class _DatabaseWrites(ExistingWrites):
    """`UPDATE` and `DELETE` of the live row: the row count says whether it was there."""

    __slots__ = ("database",)

    def __init__(self, store: DatabaseStore) -> None:
        super().__init__(store)
        self.database = store

    async def replace(self, key: str, value: bytes, ttl: float | None) -> bool:
        """Store `value` under `key` if a live row holds it."""
        import datetime

        from sqlalchemy import update

        from trivium.db import utcnow

        t = self.database.table
        expires = None if ttl is None else utcnow() + datetime.timedelta(seconds=ttl)
        query = update(t).where(*self._live(key)).values(value=value, expires_at=expires)
        async with self.database.db.engine.begin() as conn:
            result = await conn.execute(query)
        return bool(result.rowcount)

    async def take(self, key: str) -> bool:
        """Delete `key`'s row; return whether it was live."""
        from sqlalchemy import delete

        async with self.database.db.engine.begin() as conn:
            result = await conn.execute(delete(self.database.table).where(*self._live(key)))
        return bool(result.rowcount)

    def _live(self, key: str) -> tuple[Any, ...]:
        from sqlalchemy import or_

        from trivium.db import utcnow

        column = self.database.table.c
        return column.key == key, or_(column.expires_at.is_(None), column.expires_at > utcnow())


def existing_writes(store: Store) -> ExistingWrites:
    """Return the conditional writes for `store` (atomic on the built-in stores)."""
    # A Redis or database store can only exist once its client library is imported:
    # checking that first spares a memory-store app importing either.
    if "redis" in sys.modules:
        from trivium.stores import RedisStore

        if isinstance(store, RedisStore):
            return _RedisWrites(store)
    if "trivium.db" in sys.modules:
        from trivium.stores import DatabaseStore

        if isinstance(store, DatabaseStore):
            return _DatabaseWrites(store)
    return ExistingWrites(store)
