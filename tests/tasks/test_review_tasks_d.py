"""A Redis that lost its data, arguments JSON cannot carry, a RabbitMQ queue deleted."""

from __future__ import annotations

import os

import anyio
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession
from tests.db.conftest import db
from tests.tasks.conftest import clean_redis

from trivium import App
from trivium.db import Database
from trivium.tasks import Tasks
from trivium.testing import AsyncTestClient

__all__ = ["db"]

pytestmark = pytest.mark.anyio

TOO_BIG = 2**70  # Python's ints have no bound; JSON's encoder stops at 64 bits


async def test_a_worker_receives_again_after_redis_lost_its_streams(
    redis_url: str, prefix: str
) -> None:
    tasks = Tasks(redis_url, prefix=prefix, in_app_worker=True)
    app = App(plugins=[tasks])

    @tasks.task(keep_result=True)
    async def echo(n: int) -> int:
        return n

    try:
        async with app.lifespan_context():
            assert await (await echo.enqueue(1)).result(timeout=10) == 1
            # What a restart without persistence, FLUSHDB or an eviction does to the queue.
            await clean_redis(redis_url, prefix)
            redis = Redis.from_url(redis_url)
            assert [key async for key in redis.scan_iter(match=f"{prefix}:*")] == []
            await redis.aclose()
            assert await (await echo.enqueue(2)).result(timeout=10) == 2
    finally:
        await clean_redis(redis_url, prefix)


async def test_an_integer_over_64_bits_is_refused_before_its_key_is_claimed() -> None:
    tasks = Tasks()
    app = App(plugins=[tasks])

    @tasks.task(keep_result=True)
    async def echo(n: int) -> int:
        return n

    async with app.lifespan_context():
        with pytest.raises(TypeError, match=r"echo: argument 'n' of type 'int' cannot be sent"):
            await echo.options(key="k1").enqueue(TOO_BIG)
        # The corrected call with the same key runs: the refused one claimed nothing.
        assert await (await echo.options(key="k1").enqueue(5)).result(timeout=10) == 5


async def test_an_integer_over_64_bits_is_refused_in_the_outbox_too(db: Database) -> None:
    tasks = Tasks()
    app = App(plugins=[db, tasks])

    @tasks.task(keep_result=True)
    async def ship(order: int) -> int:
        return order

    @app.post("/orders")
    async def place(order: int, session: AsyncSession = db.depends()) -> dict[str, str]:
        try:
            run = await ship.options(session=session, key="order").enqueue(order)
        except TypeError as exc:
            return {"refused": str(exc)}
        return {"id": run.id}

    async with AsyncTestClient(app) as client:
        refused = (await client.post("/orders", params={"order": str(TOO_BIG)})).json()
        assert "argument 'order' of type 'int' cannot be sent as JSON" in refused["refused"]
        sent = (await client.post("/orders", params={"order": "7"})).json()
        await tasks.drain()
        info = await tasks.get(sent["id"])
        assert info is not None
        assert info.state == "done"
        assert info.result == 7


async def test_a_run_sent_to_a_deleted_rabbitmq_queue_declares_it_again(
    redis_url: str, prefix: str
) -> None:
    import aio_pika

    url = os.environ.get("TRIVIUM_TEST_RABBITMQ_URL", "")
    if not url:
        pytest.skip("needs TRIVIUM_TEST_RABBITMQ_URL (amqp://guest:guest@127.0.0.1:5672/)")
    tasks = Tasks(url, state=redis_url, prefix=prefix)
    app = App(plugins=[tasks])

    @tasks.task(keep_result=True)
    async def echo(n: int) -> int:
        return n

    connection = await aio_pika.connect(url)
    try:
        async with app.lifespan_context():
            await echo.enqueue(1)  # the app's channel declares the queue
            channel = await connection.channel()
            await channel.queue_delete(f"{prefix}.default")  # an operator, a node reset
            run = await echo.enqueue(2)
            stopping = anyio.Event()
            async with anyio.create_task_group() as group:
                group.start_soon(lambda: tasks.work(stopping, grace=0))
                assert await run.result(timeout=10) == 2
                stopping.set()
    finally:
        channel = await connection.channel()
        await channel.queue_delete(f"{prefix}.default")
        await connection.close()
        await clean_redis(redis_url, prefix)
