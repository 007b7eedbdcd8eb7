"""One connection in one transaction for a whole test: `Database.test_transaction()`.

Everything a `Database` hands out while pinned — request sessions, autocommit sessions,
`engine.connect()` and `engine.begin()` used by stores and hot reads — runs on a single
connection inside a transaction that is rolled back at the end, so a test leaves no
rows behind. Code that commits gets savepoints instead: ORM sessions join the transaction
with SQLAlchemy 2's `join_transaction_mode="create_savepoint"`, and the connections the
engine stand-in yields open a savepoint that their `commit()` releases.

The stand-in serves one request at a time, as test clients send them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import AsyncTransaction
from sqlalchemy.ext.asyncio import async_sessionmaker

__all__ = ["PinnedConnection", "PinnedEngine", "pinned_sessionmaker"]


class PinnedConnection:
    """The pinned connection as a block of code sees it: its commits end a savepoint."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._savepoint: AsyncTransaction | None = None

    async def _open(self) -> None:
        self._savepoint = await self._connection.begin_nested()

    async def _close(self, *, commit: bool) -> None:
        savepoint, self._savepoint = self._savepoint, None
        if savepoint is not None and savepoint.is_active:
            await (savepoint.commit() if commit else savepoint.rollback())

    async def commit(self) -> None:
        """Release the block's savepoint and open another (the outer transaction stays)."""
        await self._close(commit=True)
        await self._open()

    async def rollback(self) -> None:
        """Roll back to the block's savepoint and open another."""
        await self._close(commit=False)
        await self._open()

    async def invalidate(self, exception: BaseException | None = None) -> None:
        """Do nothing: the test's connection must outlive a failed statement."""
        del exception

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class PinnedEngine:
    """Stands in for the database's engine: every connection is the pinned one."""

    def __init__(self, engine: AsyncEngine, connection: AsyncConnection) -> None:
        self._engine = engine
        self._connection = connection

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[PinnedConnection]:
        """Yield the pinned connection in a savepoint; what is not committed is rolled back."""
        async with self._block(commit_at_end=False) as connection:
            yield connection

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[PinnedConnection]:
        """Yield the pinned connection in a savepoint released at the end (rolled back on error)."""
        async with self._block(commit_at_end=True) as connection:
            yield connection

    @contextlib.asynccontextmanager
    async def _block(self, *, commit_at_end: bool) -> AsyncIterator[PinnedConnection]:
        connection = PinnedConnection(self._connection)
        await connection._open()
        try:
            yield connection
        except BaseException:
            await connection._close(commit=False)
            raise
        await connection._close(commit=commit_at_end)

    def execution_options(self, **options: Any) -> PinnedEngine:
        """Return the engine itself: statements run in the test's transaction regardless."""
        del options
        return self

    async def dispose(self) -> None:
        """Do nothing: the real engine is disposed when the test transaction ends."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def pinned_sessionmaker(
    connection: AsyncConnection, session_class: Any
) -> async_sessionmaker[AsyncSession]:
    """Return a session factory whose sessions join `connection`'s transaction with savepoints."""
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        sync_session_class=session_class,
        join_transaction_mode="create_savepoint",
    )
