"""The app the crash test's worker processes run (configured through environment variables).

`CRASH_REDIS_URL`, `CRASH_PREFIX`, `CRASH_POSTGRES_URL` and `CRASH_TABLE` name the
broker, the key prefix, the database and the table of effects. Each task inserts its
number into the table (a primary key, so a second run of the same task changes nothing:
an idempotent effect) after a random pause, during which the test kills workers.
"""

from __future__ import annotations

import os
import random

import anyio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from trivium import App
from trivium.db import Database
from trivium.tasks import Tasks

TABLE = os.environ.get("CRASH_TABLE", "crash_effects")
db = Database(os.environ.get("CRASH_POSTGRES_URL", "sqlite+aiosqlite://"))
tasks = Tasks(
    os.environ.get("CRASH_REDIS_URL", "memory://"),
    prefix=os.environ.get("CRASH_PREFIX", "crash"),
    lease=1.5,
    concurrency=3,
)
app = App(plugins=[db, tasks])


@tasks.task(name="effect")
async def effect(n: int, session: AsyncSession = db.depends()) -> None:
    """Record `n` once, however many times this runs."""
    await anyio.sleep(random.uniform(0.05, 0.4))  # noqa: S311 - test timing, not crypto
    await session.execute(
        text(f"INSERT INTO {TABLE} (n) VALUES (:n) ON CONFLICT DO NOTHING"), {"n": n}
    )
