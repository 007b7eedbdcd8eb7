"""The benchmark's jobs on Celery (Redis broker, thread pool: Celery has no asyncio)."""

from __future__ import annotations

import os
import time

import redis
from celery import Celery

URL = os.environ["BENCH_REDIS_URL"]
app = Celery("bench", broker=URL)
app.conf.update(task_ignore_result=True, worker_prefetch_multiplier=4, broker_connection_retry_on_startup=True)
counter = redis.Redis.from_url(URL)


@app.task(name="noop")
def noop() -> None:
    counter.incr("bench:done")


@app.task(name="io")
def io() -> None:
    time.sleep(0.01)
    counter.incr("bench:done")
