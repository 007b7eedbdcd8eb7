"""Crash recovery with real processes: workers SIGKILLed mid-task lose no task.

100 runs (20 of them delayed, 34 at priority 5) go to Redis; three worker processes run
them while the test kills a random worker with SIGKILL every half second and starts a
new one. Each run's effect is an idempotent insert into PostgreSQL, so at-least-once
delivery must show up as exactly one row per run: none lost, none doubled. Needs
`TRIVIUM_TEST_REDIS_URL` and `TRIVIUM_TEST_POSTGRES_URL`.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text

from trivium.db import Database

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """The workers' environment, shared by the module (the app reads it once, on import)."""
    redis = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")
    postgres = os.environ.get("TRIVIUM_TEST_POSTGRES_URL", "")
    if not redis or not postgres:
        pytest.skip("the crash test needs TRIVIUM_TEST_REDIS_URL and TRIVIUM_TEST_POSTGRES_URL")
    suffix = uuid.uuid4().hex[:8]
    values = {
        **os.environ,
        "CRASH_REDIS_URL": redis,
        "CRASH_POSTGRES_URL": postgres,
        "CRASH_PREFIX": f"test-crash:{suffix}",
        "CRASH_TABLE": f"crash_effects_{suffix}",
        "TRIVIUM_APP": "tests.tasks.crash_app:app",
    }
    os.environ.update({k: v for k, v in values.items() if k.startswith("CRASH_")})
    return values


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "trivium.cli", "worker", "--grace", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_sigkilled_workers_lose_and_double_no_task(env: dict[str, str]) -> None:
    from tests.tasks import crash_app

    table = env["CRASH_TABLE"]
    database = Database(env["CRASH_POSTGRES_URL"])
    async with database.engine.begin() as connection:
        await connection.execute(text(f"CREATE TABLE {table} (n integer PRIMARY KEY)"))
    workers = [_start(env) for _ in range(3)]
    kills = 0
    try:
        tasks = crash_app.tasks
        for n in range(100):  # a fifth delayed, a third at priority 5 (their own streams)
            countdown = 1.0 if n % 5 == 0 else None
            await crash_app.effect.options(countdown=countdown, priority=5 * (n % 3 == 0)).enqueue(
                n
            )
        deadline = time.monotonic() + 45
        done = 0
        while time.monotonic() < deadline:  # noqa: ASYNC110 - polls state kept in Redis
            await anyio.sleep(0.5)
            async with database.engine.connect() as connection:
                done = int(await connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
            if done == 100:
                break
            if kills < 8:
                victim = random.randrange(len(workers))  # noqa: S311 - test, not crypto
                os.kill(workers[victim].pid, signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = _start(env)
                kills += 1
        async with database.engine.connect() as connection:
            rows = (await connection.execute(text(f"SELECT n FROM {table} ORDER BY n"))).all()
        assert [row[0] for row in rows] == list(range(100))
        assert kills >= 3
        states = {info.state for info in await tasks.list(limit=200)}
        assert states <= {"done", "running"}  # a killed run's record may still say running
        await tasks.stop()
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
        async with database.engine.begin() as connection:
            await connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await database.dispose()
        await _clean(env)


async def _clean(env: dict[str, str]) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(env["CRASH_REDIS_URL"])
    keys = [key async for key in redis.scan_iter(match=f"{env['CRASH_PREFIX']}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def test_sigterm_lets_the_running_task_finish(env: dict[str, str]) -> None:
    from tests.tasks import crash_app

    table = env["CRASH_TABLE"]
    database = Database(env["CRASH_POSTGRES_URL"])
    async with database.engine.begin() as connection:
        await connection.execute(text(f"CREATE TABLE {table} (n integer PRIMARY KEY)"))
    worker = _start(env)
    try:
        run = await crash_app.effect.enqueue(7)
        with anyio.fail_after(20):
            while (info := await run.info()) is None or info.state != "running":  # noqa: ASYNC110 - polls state kept in Redis
                await anyio.sleep(0.01)
        worker.send_signal(signal.SIGTERM)
        assert await anyio.to_thread.run_sync(lambda: worker.wait(timeout=20)) == 0
        info = await run.info()
        assert info is not None
        assert info.state == "done"
        async with database.engine.connect() as connection:
            assert await connection.scalar(text(f"SELECT count(*) FROM {table}")) == 1
        await crash_app.tasks.stop()
    finally:
        if worker.poll() is None:
            worker.kill()
        async with database.engine.begin() as connection:
            await connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await database.dispose()
        await _clean(env)
