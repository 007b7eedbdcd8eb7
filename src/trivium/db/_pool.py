"""A connection pool that serves waiting requests in the order they asked.

SQLAlchemy's async pool keeps its idle connections in an `asyncio.Queue`. When a
connection comes back, that queue wakes the longest-waiting request but leaves the
connection in the queue, where any coroutine that runs first can take it; the woken
request then finds the queue empty and waits again, at the back. Under load (more
requests than connections) some requests are overtaken again and again, and tail
latency grows: on the benchmark's `updates` scenario p99 was twice what a
contention-free pool gives.

`FairAsyncQueuePool` hands a returned connection straight to the oldest waiter, so
requests get connections first come, first served. `Database` uses it for every
server database (SQLite keeps SQLAlchemy's defaults). A request waits no longer than
its deadline has left (db/_outage.py).

`install_pool_hooks` gives any pool (this one or the app's own `poolclass=`) what a
flaky network needs: a pooled connection found dead is replaced before a request gets
it, within the request's deadline, and disposing of the pool at shutdown takes at most
`CLOSE_GRACE` seconds even when the server no longer answers.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import time
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_only
from sqlalchemy.util import memoized_property
from sqlalchemy.util.concurrency import in_greenlet
from sqlalchemy.util.queue import AsyncAdaptedQueue
from sqlalchemy.util.queue import Empty

from trivium.db._engine import terminate
from trivium.db._outage import running_deadline

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from trivium.db._outage import Outage

__all__ = ["CLOSE_GRACE", "Closing", "FairAsyncQueuePool", "HandOffQueue", "install_pool_hooks"]

CLOSE_GRACE = 2.0
"""Seconds disposing of a pool may spend closing its connections politely, in all."""

T = TypeVar("T")


class HandOffQueue(asyncio.Queue[T]):
    """An `asyncio.Queue` whose `put` gives the item to the oldest waiting `get`.

    Items only sit in the queue while nobody waits, so a coroutine calling
    `get_nowait()` can never take an item from under a waiter.
    """

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        # The timed waits (`get_within`), oldest first, behind one timer for the oldest.
        self._timed: collections.deque[tuple[float, asyncio.Future[T]]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None
        self._timed_loop: asyncio.AbstractEventLoop | None = None

    def put_nowait(self, item: T) -> None:
        getters = self._getters  # type: ignore[attr-defined]
        while getters:
            getter = getters.popleft()
            if not getter.done():
                getter.set_result(item)
                return
        super().put_nowait(item)

    async def get(self) -> T:
        if not self.empty():
            return self.get_nowait()
        getter = asyncio.get_running_loop().create_future()
        self._getters.append(getter)  # type: ignore[attr-defined]
        return await self._wait(getter)

    async def get_within(self, timeout: float) -> T:  # noqa: ASYNC109 - the point of it
        """`get`, raising `TimeoutError` once `timeout` seconds have passed without an item.

        The pool waits with one timeout, so the waits end in the order they began: one
        timer, set for the oldest, serves them all (`asyncio.timeout` costs a timer and
        its clean-up per wait). A wait with another timeout takes `asyncio.timeout`.
        """
        if not self.empty():
            return self.get_nowait()
        loop = asyncio.get_running_loop()
        if loop is not self._timed_loop:  # a new loop: the old one's waits are gone with it
            self._timed.clear()
            self._timer = None
            self._timed_loop = loop
        deadline = loop.time() + timeout
        timed = self._timed
        while timed and timed[0][1].done():  # served since: out of the timer's way
            timed.popleft()
        if timed and timed[-1][0] > deadline:
            async with asyncio.timeout(timeout):
                return await self.get()
        getter = loop.create_future()
        self._getters.append(getter)  # type: ignore[attr-defined]
        timed.append((deadline, getter))
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire)
        return await self._wait(getter)

    def _expire(self) -> None:
        """End the waits whose time is up; set the timer for the oldest one left."""
        self._timer = None
        timed = self._timed
        loop = self._timed_loop
        if not timed or loop is None:
            return
        now = loop.time()
        while timed and (timed[0][1].done() or timed[0][0] <= now):
            _, getter = timed.popleft()
            if not getter.done():
                getter.set_exception(TimeoutError())
        if timed:
            self._timer = loop.call_at(timed[0][0], self._expire)

    async def _wait(self, getter: asyncio.Future[T]) -> T:
        try:
            return await getter
        except BaseException:
            # Cancelled or timed out (a pool timeout, a client gone): give back an item
            # handed over in the meantime, and leave the line.
            if getter.done() and not getter.cancelled() and getter.exception() is None:
                self.put_nowait(getter.result())
            else:
                getter.cancel()
                with contextlib.suppress(ValueError):
                    self._getters.remove(getter)  # type: ignore[attr-defined]
            raise


class _FairQueue(AsyncAdaptedQueue[Any]):
    @memoized_property
    def _queue(self) -> asyncio.Queue[Any]:
        if self.use_lifo:  # `pool_use_lifo=True`: SQLAlchemy's own queue, as asked
            return super()._queue
        return HandOffQueue(maxsize=self.maxsize)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        queue = self._queue
        if not block or timeout is None or not isinstance(queue, HandOffQueue):
            return super().get(block, timeout)
        try:
            return queue.get_nowait()  # an idle connection is taken without waiting
        except asyncio.QueueEmpty:
            pass
        deadline = running_deadline()
        if deadline is not None:  # the request's deadline ends the wait too
            timeout = min(timeout, deadline.left())
            if timeout <= 0:
                raise Empty
        try:
            return await_only(queue.get_within(timeout))
        except TimeoutError as exc:
            raise Empty from exc  # the pool's own "timed out" error follows


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    """SQLAlchemy's async queue pool, serving waiting checkouts first come, first served."""

    _queue_class = _FairQueue
    # Logged where SQLAlchemy's own pools log ("sqlalchemy.pool"): quiet unless asked for
    # (`echo_pool=True` or that logger's level), not once per connection at INFO.
    _sqla_logger_namespace = "sqlalchemy.pool.impl.FairAsyncQueuePool"


class Closing:
    """Until when a pool being disposed of may close its connections politely."""

    __slots__ = ("until",)

    def __init__(self) -> None:
        self.until: float | None = None
        """`time.monotonic()` past which connections are closed without a word; `None`:
        the pool is not being disposed of, SQLAlchemy closes them as it does."""

    def start(self, grace: float) -> None:
        """Give the closes of the pool's connections `grace` seconds in all, from now."""
        self.until = time.monotonic() + grace


def install_pool_hooks(
    engine: AsyncEngine,
    outage: Outage,
    *,
    is_sqlite: bool,
    ping_after: float | None,
    ping_timeout: float,
) -> Closing:
    """Replace dead pooled connections before use, and bound the closes of a dispose.

    - `checkin`: a healthy connection coming back ends an outage in the log.
    - `checkout` (server databases): a connection whose socket the server or a proxy has
      closed, or that sat idle for longer than `ping_after` and does not answer a ping
      within `ping_timeout` (or what the request's deadline has left), is replaced, so
      the first request after the database comes back succeeds.
    - `close` (server databases): once the returned `Closing` is started, connections
      are closed politely until its time is up, then terminated.
    """
    pool = engine.sync_engine.pool
    closing = Closing()

    def checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info["trivium.checkin"] = time.monotonic()
            if outage.down_since is not None:
                outage.recovered()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        del proxy
        if _socket_closed(dbapi_connection):
            raise DisconnectionError("the server closed this pooled connection")
        if ping_after is None:
            return
        idle = time.monotonic() - record.info.get("trivium.checkin", time.monotonic())
        if idle > ping_after and not _ping(dbapi_connection, ping_timeout):
            raise DisconnectionError("this pooled connection no longer answers")

    def close(dbapi_connection: Any, record: Any) -> None:
        del record
        driver = getattr(dbapi_connection, "driver_connection", None)
        if closing.until is None or driver is None:
            return
        left = closing.until - time.monotonic()
        if left <= 0 or not in_greenlet() or not _closed_within(driver, left):
            _force_close(driver)

    event.listen(pool, "checkin", checkin)
    if not is_sqlite:
        event.listen(pool, "checkout", checkout)
        event.listen(pool, "close", close)
    return closing


def _socket_closed(dbapi_connection: Any) -> bool:
    """Return whether the connection's socket is known to be closed (no round trip)."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    is_closed = getattr(driver, "is_closed", None)  # asyncpg
    if callable(is_closed):
        return bool(is_closed())
    reader = getattr(driver, "_reader", None)  # aiomysql keeps its asyncio StreamReader
    if reader is not None and hasattr(reader, "at_eof"):
        return bool(reader.at_eof())
    return False


def _ping(dbapi_connection: Any, timeout: float) -> bool:
    driver: Any = getattr(dbapi_connection, "driver_connection", None)
    if hasattr(driver, "fetchval"):  # asyncpg
        probe = driver.fetchval
        args: tuple[Any, ...] = ("SELECT 1",)
    elif hasattr(driver, "ping"):  # aiomysql
        probe = driver.ping
        args = (False,)  # no reconnect
    else:  # pragma: no cover - the drivers trivium supports are handled above
        return True
    deadline = running_deadline()
    if deadline is not None:
        timeout = min(timeout, deadline.left())
    try:
        if timeout <= 0:
            raise TimeoutError
        await_only(asyncio.wait_for(probe(*args), timeout))
    except Exception:  # noqa: BLE001 - any failure means "dead"
        terminate(driver)
        return False
    return True


def _closed_within(driver: Any, seconds: float) -> bool:
    """Close `driver` politely (a goodbye to the server); `False` if not done in `seconds`."""
    polite = getattr(driver, "ensure_closed", None) or driver.close  # aiomysql: COM_QUIT
    try:
        await_only(asyncio.wait_for(_awaited(polite()), seconds))
    except Exception:  # noqa: BLE001 - terminated instead
        return False
    return True


async def _awaited(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


def _force_close(driver: Any) -> None:
    terminate(driver)
    if getattr(driver, "_writer", None) is not None:  # aiomysql: also let it know
        driver.close()
