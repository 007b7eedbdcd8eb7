"""The benchmark's jobs on trivium.tasks: each counts itself in Redis when done."""

from __future__ import annotations

import os
from typing import Annotated

import anyio
from redis.asyncio import Redis

from trivium import App
from trivium import Depends
from trivium.tasks import Tasks

URL = os.environ["BENCH_REDIS_URL"]
tasks = Tasks(URL, prefix="bench:trivium", concurrency=int(os.environ.get("BENCH_CONCURRENCY", "10")))
app = App(plugins=[tasks])


async def counter() -> Redis:
    return Redis.from_url(URL)


CounterDep = Annotated[Redis, Depends(counter, scope="app")]


@tasks.task(name="noop")
async def noop(redis: CounterDep) -> None:
    await redis.incr("bench:done")


@tasks.task(name="io")
async def io(redis: CounterDep) -> None:
    await anyio.sleep(0.01)
    await redis.incr("bench:done")
