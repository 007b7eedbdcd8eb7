"""The benchmark's jobs on plain taskiq with taskiq-redis's stream broker."""

from __future__ import annotations

import asyncio
import os

from redis.asyncio import Redis
from taskiq_redis import RedisStreamBroker

URL = os.environ["BENCH_REDIS_URL"]
broker = RedisStreamBroker(URL, queue_name="bench:taskiq", consumer_id="0")
_redis: list[Redis] = []


def _counter() -> Redis:
    if not _redis:
        _redis.append(Redis.from_url(URL))
    return _redis[0]


@broker.task(task_name="noop")
async def noop() -> None:
    await _counter().incr("bench:done")


@broker.task(task_name="io")
async def io() -> None:
    await asyncio.sleep(0.01)
    await _counter().incr("bench:done")
