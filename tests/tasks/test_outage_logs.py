"""A broker, Redis or database outage is two log lines, not a traceback per attempt."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import anyio
import pytest
from tests.faults import FaultProxy
from tests.faults import fault_proxy
from tests.tasks.conftest import clean_redis

from trivium import App
from trivium.db import Database
from trivium.tasks import Tasks
from trivium.testing import AsyncTestClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def redis_proxy(redis_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(redis_url) as running:
        yield running


def _said(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "trivium.tasks" and r.levelno >= logging.INFO]


async def test_requests_meeting_a_redis_outage_log_its_start_and_end_once(
    redis_proxy: FaultProxy, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    tasks = Tasks(redis_proxy.url, prefix=prefix, in_app_worker=False)
    app = App(plugins=[tasks])

    @tasks.task
    async def note() -> None: ...

    @app.post("/note")
    async def endpoint() -> None:
        await note.enqueue()

    try:
        async with AsyncTestClient(app) as client:
            assert (await client.post("/note")).status_code == 200
            with caplog.at_level(logging.INFO, "trivium.tasks"):
                redis_proxy.cut()
                answers = [await client.post("/note") for _ in range(4)]
                redis_proxy.restore()
                with anyio.fail_after(10):
                    while (await client.post("/note")).status_code != 200:  # noqa: ASYNC110 - polls
                        await anyio.sleep(0.1)
    finally:
        redis_proxy.restore()
        await clean_redis(str(os.environ["TRIVIUM_TEST_REDIS_URL"]), prefix)
    assert [a.status_code for a in answers] == [503] * 4
    assert answers[0].headers["retry-after"] == "5"
    said = _said(caplog)
    assert [r.levelname for r in said] == ["ERROR", "WARNING"], [r.getMessage() for r in said]
    assert "enqueueing a task failed" in said[0].getMessage()
    assert "no Redis server answers" in said[0].getMessage()
    assert "works again after" in said[1].getMessage()
    assert not any(r.exc_info for r in said)


async def test_the_worker_logs_a_redis_stall_once_and_its_end(
    redis_proxy: FaultProxy, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    tasks = Tasks(redis_proxy.url, prefix=prefix, in_app_worker=True)
    app = App(plugins=[tasks])
    ran: list[str] = []

    @tasks.task
    async def note(text: str) -> None:
        ran.append(text)

    try:
        async with AsyncTestClient(app):
            await note.enqueue("before")
            with caplog.at_level(logging.INFO, "trivium.tasks"):
                redis_proxy.stall()
                await anyio.sleep(7)  # several polls time out
                redis_proxy.restore()
                with anyio.fail_after(15):
                    while True:
                        try:
                            await note.enqueue("after")
                            break
                        except Exception:  # noqa: BLE001 - a 503 until the client reconnects
                            await anyio.sleep(0.2)
                    while "after" not in ran:  # noqa: ASYNC110 - the worker appends
                        await anyio.sleep(0.05)
    finally:
        redis_proxy.restore()
        await clean_redis(str(os.environ["TRIVIUM_TEST_REDIS_URL"]), prefix)
    said = [r for r in _said(caplog) if "receiving tasks" in r.getMessage()]
    assert [r.levelname for r in said] == ["ERROR", "WARNING"], [r.getMessage() for r in said]
    assert "works again after" in said[1].getMessage()
    assert not any(r.exc_info for r in _said(caplog))


async def test_a_relay_failing_on_an_outage_logs_once_and_its_end(
    redis_proxy: FaultProxy, prefix: str, caplog: pytest.LogCaptureFixture, tmp_path: object
) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.tasks._outbox import OutboxEntry

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/outbox.db")
    tasks = Tasks(redis_proxy.url, prefix=prefix, db=db, in_app_worker=False)
    app = App(plugins=[db, tasks])

    @tasks.task
    async def note() -> None: ...

    try:
        async with AsyncTestClient(app):
            async with db.engine.begin() as connection:
                await connection.run_sync(OutboxEntry.metadata.create_all)
            redis_proxy.cut()
            async with db.sessionmaker() as session, session.begin():
                assert isinstance(session, AsyncSession)
                await note.options(session=session).enqueue()
            with caplog.at_level(logging.INFO, "trivium.tasks"):
                for _ in range(3):  # three sweeps meet the outage
                    assert await tasks.outbox.relay() == 0
                redis_proxy.restore()
                with anyio.fail_after(10):
                    while await tasks.outbox.relay() == 0:  # noqa: ASYNC110 - polls Redis
                        await anyio.sleep(0.1)
    finally:
        redis_proxy.restore()
        await clean_redis(str(os.environ["TRIVIUM_TEST_REDIS_URL"]), prefix)
    said = [r for r in _said(caplog) if "outbox" in r.getMessage()]
    assert [r.levelname for r in said] == ["ERROR", "WARNING"], [r.getMessage() for r in said]
    assert "relaying the task outbox failed" in said[0].getMessage()
    assert not any(r.exc_info for r in said)
