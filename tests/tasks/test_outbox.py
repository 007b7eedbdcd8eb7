"""The outbox: a run enqueued in a request's transaction is sent if and only if it commits."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.db.conftest import db
from tests.tasks.conftest import clean_redis

from trivium import App
from trivium import HTTPException
from trivium.db import Database
from trivium.db import Migrations
from trivium.errors import ConfigurationError
from trivium.tasks import OUTBOX_TABLE
from trivium.tasks import OutboxEntry
from trivium.tasks import Tasks
from trivium.tasks._worker import message_info
from trivium.testing import AsyncTestClient

__all__ = ["db"]

pytestmark = pytest.mark.anyio


def _app(db: Database) -> tuple[App, Tasks, list[int]]:
    tasks = Tasks()
    app = App(plugins=[db, tasks])
    seen: list[int] = []

    @tasks.task(name="ship")
    async def ship(order: int) -> None:
        seen.append(order)

    @app.post("/orders/{order}")
    async def place(
        order: int, session: AsyncSession = db.depends(), fail: bool = False
    ) -> dict[str, str]:
        run = await ship.options(session=session).enqueue(order)
        if fail:
            raise HTTPException(409, "out of stock")
        return {"id": run.id}

    return app, tasks, seen


async def _outbox_rows(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxEntry)) or 0)


async def test_committed_request_sends_its_run(db: Database) -> None:
    app, tasks, seen = _app(db)
    async with AsyncTestClient(app) as client:
        response = await client.post("/orders/1")
        assert response.status_code == 200
        await tasks.drain()
        info = await tasks.get(response.json()["id"])
        assert await _outbox_rows(db) == 0
    assert seen == [1]
    assert info is not None
    assert info.state == "done"


async def test_rolled_back_request_sends_nothing(db: Database) -> None:
    app, tasks, seen = _app(db)
    async with AsyncTestClient(app) as client:
        response = await client.post("/orders/2", params={"fail": "true"})
        assert response.status_code == 409
        await tasks.drain()
        assert await tasks.list() == []
        assert await _outbox_rows(db) == 0
    assert seen == []


async def test_rows_left_by_a_crash_are_relayed_by_the_sweep(db: Database) -> None:
    app, tasks, seen = _app(db)
    ship = tasks.registry["ship"]
    async with db.sessionmaker() as session:
        await ship.options(session=session).enqueue(3)
        session.sync_session.info.clear()  # as if the process died right after COMMIT
        await session.commit()
    assert await _outbox_rows(db) == 1
    async with app.lifespan_context():
        assert await tasks.relay() == 1
        await tasks.drain()
    assert seen == [3]
    assert await _outbox_rows(db) == 0
    await db.dispose()


async def test_priority_survives_the_relay(db: Database) -> None:
    app, tasks, seen = _app(db)
    ship = tasks.registry["ship"]
    async with db.sessionmaker() as session:
        run = await ship.options(session=session, priority=6).enqueue(4)
        session.sync_session.info.clear()  # relayed by the sweep, from the row alone
        await session.commit()
    async with app.lifespan_context():
        assert await tasks.relay() == 1
        await tasks.drain()
        info = await run.info()
    assert seen == [4]
    assert info is not None
    assert info.priority == 6
    await db.dispose()


async def _row_copy(session: AsyncSession) -> dict[str, Any]:
    """The outbox row of `session`'s transaction, to write it again as a crash leaves it."""
    row = (await session.scalars(select(OutboxEntry))).one()
    return {"id": row.id, "queue": row.queue, "message": row.message, "eta": row.eta}


async def _relay_again(db: Database, tasks: Tasks, copy: dict[str, Any]) -> int:
    """Write the relayed row back (its delete lost to a crash) and relay it again."""
    async with db.sessionmaker() as session, session.begin():
        session.add(OutboxEntry(**copy))
    relayed = await tasks.relay()
    await tasks.drain()
    return relayed


@pytest.mark.parametrize("eager", [False, True])
async def test_row_relayed_again_after_its_run_finished_does_not_run_it_again(
    db: Database, eager: bool
) -> None:
    app, tasks, seen = _app(db)
    tasks.eager = eager
    ship = tasks.registry["ship"]
    async with app.lifespan_context():
        async with db.sessionmaker() as session, session.begin():
            run = await ship.options(session=session).enqueue(5)
            copy = await _row_copy(session)
        await tasks.drain()
        assert seen == [5]
        assert await _relay_again(db, tasks, copy) == 1  # the row is gone again...
        info = await run.info()
        assert await _outbox_rows(db) == 0
    await db.dispose()
    assert seen == [5]  # ...but the finished run did not run a second time
    assert info is not None
    assert info.state == "done"
    assert info.attempts == 1


async def test_row_relayed_again_while_its_run_is_queued_is_sent(db: Database) -> None:
    # The first relay recorded the run but its send failed: the row stays, is sent again.
    app, tasks, seen = _app(db)
    ship = tasks.registry["ship"]
    async with db.sessionmaker() as session:
        run = await ship.options(session=session).enqueue(6)
        message = orjson.loads((await _row_copy(session))["message"])
        session.sync_session.info.clear()  # relayed by the sweep only
        await session.commit()
    async with app.lifespan_context():
        await tasks.store.put(message_info(tasks, message))  # a `queued` record, no message
        assert await tasks.relay() == 1
        await tasks.drain()
        info = await run.info()
    await db.dispose()
    assert seen == [6]
    assert info is not None
    assert info.state == "done"


async def test_row_relayed_again_on_redis_does_not_run_a_finished_run(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    tasks = Tasks(redis_url, prefix=prefix, in_app_worker=True)
    app = App(plugins=[db, tasks])
    seen: list[int] = []

    @tasks.task(name="ship")
    async def ship(order: int) -> None:
        seen.append(order)

    try:
        async with app.lifespan_context():
            await db.create_all()
            async with db.sessionmaker() as session, session.begin():
                run = await ship.options(session=session).enqueue(8)
                copy = await _row_copy(session)
            await run.result(timeout=10)
            assert await _relay_again(db, tasks, copy) == 1
            await anyio.sleep(1)  # the worker would have taken a message sent again
            info = await run.info()
    finally:
        await clean_redis(redis_url, prefix)
        await db.dispose()
    assert seen == [8]
    assert info is not None
    assert info.state == "done"


async def test_eager_runs_an_outbox_run_once_the_request_commits(db: Database) -> None:
    tasks = Tasks(eager=True)
    app = App(plugins=[db, tasks])
    seen: list[tuple[str, int]] = []

    @tasks.task(name="notify")
    async def notify(order: int) -> None:
        seen.append(("notify", order))

    @tasks.task(name="ship")
    async def ship(order: int, session: AsyncSession = db.depends()) -> None:
        seen.append(("ship", order))
        await notify.options(session=session).enqueue(order)  # a write in the task's own

    @app.post("/orders/{order}")
    async def place(
        order: int, session: AsyncSession = db.depends(), fail: bool = False
    ) -> dict[str, object]:
        run = await ship.options(session=session).enqueue(order)
        ran = list(seen)  # nothing runs before the commit
        if fail:
            raise HTTPException(409, "out of stock")
        return {"id": run.id, "ran": ran}

    async with AsyncTestClient(app) as client:
        response = await client.post("/orders/1")
        assert seen == [("ship", 1), ("notify", 1)]  # when the response arrives
        assert response.json()["ran"] == []
        info = await tasks.get(response.json()["id"])
        rolled_back = await client.post("/orders/2", params={"fail": "true"})
        assert rolled_back.status_code == 409
        assert seen == [("ship", 1), ("notify", 1)]
        assert await _outbox_rows(db) == 0
    assert info is not None
    assert info.state == "done"


async def test_duplicate_key_with_a_session_names_the_first_run(db: Database) -> None:
    app, tasks, seen = _app(db)
    ship = tasks.registry["ship"]
    async with app.lifespan_context():
        first = await ship.options(key="order-7").enqueue(7)
        await tasks.drain()
        async with db.sessionmaker() as session, session.begin():
            second = await ship.options(key="order-7", session=session).enqueue(7)
        await tasks.drain()
        info = await second.info()
        assert await _outbox_rows(db) == 0
    await db.dispose()
    assert second.id == first.id
    assert info is not None
    assert info.state == "done"
    assert seen == [7]


async def test_session_of_another_database_is_refused(db: Database, tmp_path: Path) -> None:
    app, tasks, _ = _app(db)
    other = Database(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}", name="other")
    async with app.lifespan_context(), other.sessionmaker() as session:
        with pytest.raises(ConfigurationError, match="tasks-foreign-session"):
            await tasks.registry["ship"].options(session=session).enqueue(1)
    await other.dispose()


async def test_session_without_a_database_is_refused() -> None:
    tasks = Tasks()
    App(plugins=[tasks])

    @tasks.task
    async def job() -> None: ...

    with pytest.raises(ConfigurationError, match="tasks-no-database"):
        await job.options(session=object()).enqueue()


async def test_migration_creates_the_outbox_table(db: Database, tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    db.migrations = tmp_path / "migrations"
    db.version_table = f"tasks_version_{tmp_path.name[-8:]}"
    app, _, _ = _app(db)
    app.build()
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: OutboxEntry.__table__.drop(sync, checkfirst=True))
    migrations = Migrations(db)
    try:
        applied = await migrations.migrate()
        assert [revision.id for revision in applied] == ["tasks_0001"]
        async with db.engine.connect() as connection:
            names: Any = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert OUTBOX_TABLE in names
    finally:
        await migrations.downgrade("base") if hasattr(migrations, "downgrade") else None
        async with db.engine.begin() as connection:
            await connection.run_sync(
                lambda sync: OutboxEntry.__table__.create(sync, checkfirst=True)
            )
            await connection.exec_driver_sql(f"DROP TABLE IF EXISTS {db.version_table}")
        await db.dispose()


def _savepoint_app(db: Database, *, eager: bool = False) -> tuple[App, Tasks, list[str]]:
    tasks = Tasks(eager=eager)
    app = App(plugins=[db, tasks])
    seen: list[str] = []

    @tasks.task(name="job")
    async def job(tag: str) -> None:
        seen.append(tag)

    @app.post("/released")
    async def released(session: AsyncSession = db.depends()) -> dict[str, object]:
        async with session.begin_nested():
            run = await job.options(session=session).enqueue("released")
        await anyio.sleep(0.3)  # the outer transaction goes on: nothing is committed yet
        return {"id": run.id, "early": list(seen)}

    @app.post("/rolled-back")
    async def rolled_back(session: AsyncSession = db.depends()) -> dict[str, object]:
        run = await job.options(session=session).enqueue("outer")
        with contextlib.suppress(ValueError):
            async with session.begin_nested():
                await job.options(session=session).enqueue("undone")
                async with session.begin_nested():
                    await job.options(session=session).enqueue("undone-inner")
                raise ValueError("a step that failed and was undone")
        await anyio.sleep(0.3)  # the outer transaction goes on
        return {"id": run.id, "early": list(seen)}

    return app, tasks, seen


async def test_released_savepoint_relays_only_once_the_transaction_commits(db: Database) -> None:
    app, tasks, seen = _savepoint_app(db)
    async with AsyncTestClient(app) as client:
        response = await client.post("/released")
        with anyio.fail_after(2):  # well before the sweep (5 s)
            await tasks.drain()
        info = await tasks.get(response.json()["id"])
    await db.dispose()
    assert response.json()["early"] == []
    assert seen == ["released"]
    assert info is not None
    assert info.state == "done"


async def test_rolled_back_savepoint_drops_only_its_own_runs(db: Database) -> None:
    app, tasks, seen = _savepoint_app(db)
    async with AsyncTestClient(app) as client:
        response = await client.post("/rolled-back")
        with anyio.fail_after(2):
            await tasks.drain()
        info = await tasks.get(response.json()["id"])
        rows = await _outbox_rows(db)
    await db.dispose()
    assert seen == ["outer"]
    assert info is not None
    assert info.state == "done"
    assert rows == 0


async def test_eager_runs_savepoint_runs_at_the_outer_commit(db: Database) -> None:
    app, tasks, seen = _savepoint_app(db, eager=True)
    async with AsyncTestClient(app) as client:
        released = await client.post("/released")
        assert seen == ["released"]  # when the response arrives
        rolled_back = await client.post("/rolled-back")
        assert seen == ["released", "outer"]
        rows = await _outbox_rows(db)
    await db.dispose()
    assert released.json()["early"] == []
    assert rolled_back.json()["early"] == ["released"]
    assert rows == 0
