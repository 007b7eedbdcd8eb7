"""A short-lived, per-process cache of the logged-in users' rows, cleared on every write.

Reading the logged-in user is the one database query nearly every request of a real app
makes. `UserCache` keeps the rows `UserReader` read for a few seconds, and forgets all of
them whenever anything this process runs writes to the user table:

- every statement on the `Database`'s engine that writes to the table (an ORM flush, a
  Core `update()`, a raw `UPDATE` in `text()`) clears this process's cache at once, and
  again when its transaction commits (reads made in between saw the old row);
- with sessions in Redis, each clear is also published on a Redis channel that every
  process of the app listens to; a process serves cached rows only while it is
  subscribed (Redis down: no cache, every request reads the database);
- a read that was under way when a clear happened is not cached (a generation counter),
  so a row read before a commit can't outlive the clear that commit causes.

Writes that do not go through the app's engine (psql, another service) are seen when the
entry expires (`AuthConfig.user_cache_seconds`, default 5 s). With sessions in the
database the cache is off: nothing would tell the other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event

from trivium.errors import OutageLog

__all__ = ["UserCache"]

logger = logging.getLogger("trivium.auth")

_WRITTEN = "trivium_auth_users_written"  # connection.info flag: commit must clear again
_MAX_ENTRIES = 10_000  # a bound on memory: the cache starts over when it is full
_RETRY_SECONDS = 1.0


class UserCache:
    """Rows of users by id, kept `seconds` at most, cleared on any write to `table`."""

    __slots__ = (
        "_client",
        "_names",
        "_tasks",
        "channel",
        "generation",
        "live",
        "rows",
        "seconds",
        "table",
    )

    def __init__(self, seconds: float, table: str, channel: str) -> None:
        self.seconds = seconds
        """How long a row may be served from memory."""
        self.table = table
        """The user table's name (statements naming it and not reading are writes)."""
        # SQL names are case-insensitive: `UPDATE AUTH_USER ...` writes the table too.
        self._names = re.compile(re.escape(table), re.IGNORECASE).search
        self.channel = channel
        """The Redis channel clears are published on."""
        self.rows: dict[Any, tuple[Any, float]] = {}
        self.generation = 0
        """Counts clears: a read started before a clear is not cached."""
        self.live = False
        """Whether rows may be served (always in one process; while subscribed with Redis)."""
        self._client: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @classmethod
    def for_store(cls, store: Any, seconds: float, table: str) -> UserCache | None:
        """Return a cache for sessions kept in `store`, or `None` when it can't be kept right.

        Memory sessions mean one process; Redis sessions can tell every process of a
        change. Sessions elsewhere (the database) leave no way to, so no cache.
        """
        from trivium.stores import MemoryStore
        from trivium.stores import RedisStore

        if not seconds or not isinstance(store, MemoryStore | RedisStore):
            return None
        prefix = store.prefix if isinstance(store, RedisStore) else "trivium:"
        cache = cls(seconds, table, f"{prefix}auth:users")
        if isinstance(store, RedisStore):
            cache.publish_with(store.client)
        return cache

    def get(self, user_id: Any) -> Any:
        """Return the cached row of `user_id`, or `None`."""
        entry = self.rows.get(user_id)
        if entry is None:
            return None
        if not self.live or time.monotonic() >= entry[1]:
            self.rows.pop(user_id, None)
            return None
        return entry[0]

    def put(self, user_id: Any, row: Any, generation: int) -> None:
        """Keep `row`, read when the generation was `generation`, unless a clear came since."""
        if not self.live or generation != self.generation:
            return
        if len(self.rows) >= _MAX_ENTRIES:
            self.rows.clear()
        self.rows[user_id] = (row, time.monotonic() + self.seconds)

    def clear(self) -> None:
        """Forget every row (and make reads under way not cache theirs)."""
        self.generation += 1
        self.rows.clear()

    # Writes through the app's engine ------------------------------------------------

    def publish_with(self, client: Any) -> None:
        """Publish clears with the Redis `client`, and serve rows only while subscribed."""
        self._client = client

    def watch(self, engine: Any) -> None:
        """Clear on writes to the table through `engine` (an `AsyncEngine`)."""
        if self._client is None:
            self.live = True  # one process: the engine's events are all there is
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "after_cursor_execute", self._on_execute)
        event.listen(sync_engine, "commit", self._on_commit)

    def _on_execute(self, connection: Any, *args: Any) -> None:
        # Reads the statement only (no cursor, no context): `trivium.db` may tell it of a
        # row it wrote on the driver directly (see docs/database.md).
        statement: str = args[1]
        if statement.lstrip()[:6].upper() == "SELECT" or self._names(statement) is None:
            return
        connection.info[_WRITTEN] = True
        self._cleared()

    _on_execute.statement_only = True  # type: ignore[attr-defined]

    def _on_commit(self, connection: Any) -> None:
        if connection.info.pop(_WRITTEN, False):
            self._cleared()

    def _cleared(self) -> None:
        self.clear()
        if self._client is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a sync engine outside a loop: the TTL bounds the others
            return
        task = loop.create_task(self._publish())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self) -> None:
        try:
            await self._client.publish(self.channel, b"clear")
        except Exception:
            logger.warning(
                "could not tell the other processes that a user changed; their cached "
                "users expire within %.0f s",
                self.seconds,
                exc_info=True,
            )

    # Clears published by the other processes ----------------------------------------

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """Listen for the other processes' clears while the app serves (Redis only)."""
        if self._client is None:
            yield
            return
        task = asyncio.get_running_loop().create_task(self._listen())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.live = False

    async def _listen(self) -> None:
        outage = OutageLog(logger, "user cache", back="on again: Redis answers", counted="failures")
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while True:
                    # A timeout of its own: the client's socket timeout would end a quiet wait.
                    message = await pubsub.get_message(timeout=_RETRY_SECONDS)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self.clear()
                        self.live = True
                        outage.recovered()
                    elif message["type"] == "message":
                        self.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure turns the cache off
                outage.failed(
                    "user cache off until Redis answers again (%s: %s)", type(exc).__name__, exc
                )
            finally:
                self.live = False
                self.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(_RETRY_SECONDS)
