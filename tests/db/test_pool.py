"""The fair connection pool: waiting requests get connections first come, first served."""

from __future__ import annotations

import asyncio
import collections
import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.pool import NullPool
from tests.db.conftest import BACKENDS

from trivium.db import Database
from trivium.db._pool import FairAsyncQueuePool
from trivium.db._pool import HandOffQueue

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def test_a_returned_item_goes_to_the_oldest_waiter_not_to_a_newcomer() -> None:
    queue: HandOffQueue[str] = HandOffQueue()
    waiter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)  # the waiter is now in line
    queue.put_nowait("connection")
    # A coroutine running before the waiter wakes finds nothing to take.
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
    assert await waiter == "connection"


async def test_plain_asyncio_queue_lets_a_newcomer_overtake() -> None:
    # The behaviour HandOffQueue exists to avoid (if asyncio changes, this test says so).
    queue: asyncio.Queue[str] = asyncio.Queue()
    waiter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("connection")
    assert queue.get_nowait() == "connection"
    waiter.cancel()


async def test_waiters_are_served_in_arrival_order() -> None:
    queue: HandOffQueue[int] = HandOffQueue()
    served: list[int] = []

    async def wait(number: int) -> None:
        served.append(number)
        served.append(await queue.get())

    tasks = [asyncio.ensure_future(wait(n)) for n in range(5)]
    await asyncio.sleep(0)
    for item in range(100, 105):
        queue.put_nowait(item)
    await asyncio.gather(*tasks)
    assert served[5:] == [100, 101, 102, 103, 104]


async def test_a_cancelled_waiter_leaves_the_line_and_gives_back_what_it_got() -> None:
    queue: HandOffQueue[str] = HandOffQueue()
    gone = asyncio.ensure_future(queue.get())
    late = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    queue.put_nowait("first")
    assert await late == "first"

    # Handed over, then cancelled before running: the item is passed on, not lost.
    unlucky = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("second")
    unlucky.cancel()
    with pytest.raises(asyncio.CancelledError):
        await unlucky
    assert queue.get_nowait() == "second"


async def test_timeouts_still_apply() -> None:
    queue: HandOffQueue[str] = HandOffQueue()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    queue.put_nowait("later")
    assert queue.get_nowait() == "later"


async def test_timed_waits_end_in_order_and_a_late_item_goes_to_a_waiter_still_in_line() -> None:
    queue: HandOffQueue[str] = HandOffQueue()
    first = asyncio.ensure_future(queue.get_within(0.05))
    await asyncio.sleep(0.03)
    second = asyncio.ensure_future(queue.get_within(0.05))
    await asyncio.sleep(0.03)  # the first wait is over, the second one is not
    with pytest.raises(TimeoutError):
        await first
    assert not second.done()
    queue.put_nowait("connection")
    assert await second == "connection"
    with pytest.raises(TimeoutError):
        await queue.get_within(0.01)  # the timer is set again for a later wait
    assert queue._getters == collections.deque()  # type: ignore[attr-defined]


async def test_a_timed_wait_served_in_time_leaves_no_timeout_behind() -> None:
    queue: HandOffQueue[int] = HandOffQueue()
    waits = [asyncio.ensure_future(queue.get_within(0.05)) for _ in range(3)]
    await asyncio.sleep(0)
    for item in range(3):
        queue.put_nowait(item)
    assert await asyncio.gather(*waits) == [0, 1, 2]
    await asyncio.sleep(0.08)  # past the deadlines: nothing may fire into a later wait
    later = asyncio.ensure_future(queue.get_within(1.0))
    await asyncio.sleep(0)
    queue.put_nowait(7)
    assert await later == 7
    shorter = asyncio.ensure_future(queue.get_within(5.0))
    await asyncio.sleep(0)
    with pytest.raises(TimeoutError):  # a shorter timeout than a wait in line still holds
        await queue.get_within(0.01)
    shorter.cancel()


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
async def test_a_checkout_that_waits_past_pool_timeout_is_the_pools_timeout(backend: str) -> None:
    url = os.environ.get(BACKENDS[backend], "")
    if not url:
        pytest.skip(f"{backend} tests need {BACKENDS[backend]}")
    db = Database(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        async with db.engine.connect() as held:
            await held.execute(text("SELECT 1"))
            started = asyncio.get_running_loop().time()
            with pytest.raises(SQLAlchemyTimeoutError):
                async with db.engine.connect():
                    pass
            assert asyncio.get_running_loop().time() - started >= 0.2
        async with db.engine.connect() as again:  # the connection given back is usable
            assert (await again.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await db.dispose()


def test_server_databases_get_the_fair_pool_and_sqlite_keeps_its_own() -> None:
    assert Database("postgresql://app@localhost/app").engine.pool.__class__ is FairAsyncQueuePool
    assert Database("mysql://app@localhost/app").engine.pool.__class__ is FairAsyncQueuePool
    chosen = Database("postgresql://app@localhost/app", poolclass=NullPool)
    assert chosen.engine.pool.__class__ is NullPool
    assert not isinstance(Database("sqlite:///x.db").engine.pool, FairAsyncQueuePool)
    lifo = Database("postgresql://app@localhost/app", pool_use_lifo=True).engine.pool
    assert isinstance(lifo, AsyncAdaptedQueuePool)
    assert isinstance(lifo._pool._queue, asyncio.LifoQueue)  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
async def test_the_pool_serves_a_waiting_request_between_two_uses_of_a_busy_one(
    backend: str,
) -> None:
    url = os.environ.get(BACKENDS[backend], "")
    if not url:
        pytest.skip(f"{backend} tests need {BACKENDS[backend]}")
    db = Database(url, pool_size=1, max_overflow=0)
    order: list[str] = []
    holding = asyncio.Event()

    async def use(name: str) -> None:
        async with db.engine.connect() as connection:
            order.append(name)
            holding.set()
            await connection.execute(text("SELECT 1"))
            await asyncio.sleep(0.01)

    async def busy() -> None:
        # Gives the connection back and asks again at once, three times.
        for _ in range(3):
            await use("busy")

    async def patient() -> None:
        await holding.wait()
        await use("patient")

    try:
        await asyncio.gather(busy(), patient())
    finally:
        await db.dispose()
    assert order == ["busy", "patient", "busy", "busy"]


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
async def test_a_checkout_that_times_out_does_not_keep_a_connection(backend: str) -> None:
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    url = os.environ.get(BACKENDS[backend], "")
    if not url:
        pytest.skip(f"{backend} tests need {BACKENDS[backend]}")
    db = Database(url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    try:
        async with db.engine.connect() as first:
            await first.execute(text("SELECT 1"))
            with pytest.raises(PoolTimeout):
                async with db.engine.connect():
                    pass
        for _ in range(3):  # the connection went back to the pool, not to the timed-out waiter
            async with db.engine.connect() as again:
                assert (await again.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await db.dispose()
