"""The app the RabbitMQ kill test's worker processes run (configured by environment).

`RMQ_BROKER_URL`, `RMQ_STATE_URL` and `RMQ_PREFIX` name the broker, the Redis of the
run state and the prefix. Each run sleeps a little, during which the test kills workers.
The lease is short (2 s): a killed worker's hand-off of delayed runs expires quickly, so
the test waits seconds, not the default 30, for another worker to publish them.
"""

from __future__ import annotations

import os
import random

import anyio

from trivium import App
from trivium.tasks import Tasks

tasks = Tasks(
    os.environ.get("RMQ_BROKER_URL", "memory://"),
    state=os.environ.get("RMQ_STATE_URL") or None,
    prefix=os.environ.get("RMQ_PREFIX", "rmq"),
    concurrency=3,
    lease=2.0,
)
app = App(plugins=[tasks])


@tasks.task(name="nap")
async def nap(n: int) -> int:
    """Sleep a little, at a priority that depends on `n`."""
    await anyio.sleep(random.uniform(0.05, 0.3))  # noqa: S311 - test timing, not crypto
    return n
