"""Database outages through a real TCP proxy: 503 with Retry-After, 504 past the deadline.

PostgreSQL and MariaDB sit behind `FaultProxy` (tests/faults.py) with their real drivers;
the test cuts, stalls or resets the connections and checks what an HTTP client sees, that
the outage is logged once, and that the first request after recovery succeeds.
"""

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium import App
from trivium.db import Database
from trivium.testing import TestClient

SERVERS = {"postgresql": "TRIVIUM_TEST_POSTGRES_URL", "mysql": "TRIVIUM_TEST_MYSQL_URL"}
SLEEP = {"postgresql": "SELECT pg_sleep(3)", "mysql": "SELECT SLEEP(3)"}


@pytest.fixture(params=sorted(SERVERS))
def proxy(request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    variable = SERVERS[request.param]
    url = os.environ.get(variable, "")
    if not url:
        pytest.skip(f"{request.param} outage tests need {variable}")
    with fault_proxy(url) as running:
        yield running


def make_app(db: Database, **route_options: object) -> App:
    app = App()
    db.init_app(app)
    Session = Annotated[AsyncSession, db.depends(**route_options)]  # type: ignore[arg-type]  # noqa: N806

    @app.get("/one")
    async def one(session: Session) -> int:
        return int((await session.execute(text("SELECT 1"))).scalar_one())

    @app.get("/plain")
    async def plain() -> str:
        return "no database here"

    return app


def outage_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "trivium.db" and r.levelno >= logging.ERROR]


def test_database_down_answers_503_with_retry_after_and_logs_once(
    proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(proxy.url)
    with TestClient(make_app(db)) as client:
        assert client.get("/one").json() == 1
        proxy.cut()
        for _ in range(3):
            response = client.get("/one")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert "unreachable" in response.json()["detail"] or "lost" in response.json()["detail"]
        assert client.get("/plain").status_code == 200
        assert len(outage_records(caplog)) == 1
        assert not [r for r in caplog.records if r.exc_info]
        proxy.restore()
        time.sleep(1.05)  # an outage ends at the first success a second after the last failure
        assert client.get("/one").json() == 1
    assert any("available again" in r.getMessage() for r in caplog.records)


def test_connections_dropped_while_idle_are_replaced_before_use(proxy: FaultProxy) -> None:
    db = Database(proxy.url, pool_size=2)
    with TestClient(make_app(db)) as client:
        assert client.get("/one").json() == 1
        proxy.reset()  # a failover or a pooler restart: the pooled connections are gone
        assert client.get("/one").json() == 1
        assert client.get("/one").json() == 1


def test_a_stalled_database_answers_504_within_the_deadline_and_frees_the_pool(
    proxy: FaultProxy,
) -> None:
    db = Database(proxy.url, timeout=1, pool_size=1, max_overflow=0)
    with TestClient(make_app(db)) as client:
        assert client.get("/one").json() == 1
        proxy.stall()
        started = time.monotonic()
        response = client.get("/one")
        elapsed = time.monotonic() - started
        assert response.status_code == 504
        assert response.headers["retry-after"] == "5"
        assert elapsed < 2.5
        proxy.restore()
        # The only pooled connection was released: the next request gets one.
        assert client.get("/one").json() == 1


def test_a_route_can_set_its_own_deadline(proxy: FaultProxy) -> None:
    db = Database(proxy.url)  # 10 s by default
    with TestClient(make_app(db, timeout=0.5)) as client:
        assert client.get("/one").json() == 1
        proxy.stall()
        started = time.monotonic()
        assert client.get("/one").status_code == 504
        assert time.monotonic() - started < 2
        proxy.restore()


@pytest.mark.parametrize("backend", sorted(SERVERS))
def test_a_statement_past_statement_timeout_answers_504(backend: str) -> None:
    url = os.environ.get(SERVERS[backend], "")
    if not url:
        pytest.skip(f"needs {SERVERS[backend]}")
    db = Database(url, statement_timeout=0.5)
    app = App()
    db.init_app(app)

    @app.get("/slow")
    async def slow(session: Annotated[AsyncSession, db.depends()]) -> str:
        await session.execute(text(SLEEP[backend]))
        return "finished"

    with TestClient(app) as client:
        started = time.monotonic()
        response = client.get("/slow")
        assert response.status_code == 504, response.text
        assert "statement timeout" in response.json()["detail"]
        assert time.monotonic() - started < 2.5


def test_psycopg_gets_the_timeouts_as_libpq_parameters_keeping_the_urls_options() -> None:
    url = os.environ.get(SERVERS["postgresql"], "")
    if not url:
        pytest.skip(f"needs {SERVERS['postgresql']}")
    pytest.importorskip("psycopg")
    base = url.split("://", 1)[1]
    db = Database(
        f"postgresql+psycopg://{base}?options=-c%20search_path%3Dpg_catalog",
        statement_timeout=0.5,
        timeout=3,
    )
    app = App()
    db.init_app(app)

    @app.get("/settings")
    async def settings(session: Annotated[AsyncSession, db.depends()]) -> list[str]:
        timeout = (await session.execute(text("SHOW statement_timeout"))).scalar_one()
        path = (await session.execute(text("SHOW search_path"))).scalar_one()
        return [timeout, path]

    @app.get("/slow")
    async def slow(session: Annotated[AsyncSession, db.depends()]) -> str:
        await session.execute(text(SLEEP["postgresql"]))
        return "finished"

    with TestClient(app) as client:
        assert client.get("/settings").json() == ["500ms", "pg_catalog"]
        assert client.get("/slow").status_code == 504


def test_an_exhausted_pool_answers_503(proxy: FaultProxy) -> None:
    db = Database(proxy.url, pool_size=1, max_overflow=0, pool_timeout=0.3)
    app = make_app(db)

    @app.get("/two")
    async def two(session: Annotated[AsyncSession, db.depends()]) -> int:
        await session.execute(text("SELECT 1"))  # holds the only connection
        async with db.sessionmaker() as other:
            return int((await other.execute(text("SELECT 2"))).scalar_one())

    with TestClient(app) as client:
        response = client.get("/two")
        assert response.status_code == 503
        assert "no connection became free within 0.3 s" in response.json()["detail"]
        assert client.get("/one").json() == 1  # both connections went back


def test_database_unreachable_at_first_use_answers_503() -> None:
    db = Database("postgresql://nobody@127.0.0.1:1/nothing")
    app = App()
    Session = Annotated[AsyncSession, db.depends()]  # noqa: N806

    @app.get("/one")
    async def one(session: Session) -> int:
        return int((await session.execute(text("SELECT 1"))).scalar_one())

    with TestClient(app) as client:
        response = client.get("/one")
    assert response.status_code == 503
    assert response.json() == {"detail": "the database is unreachable"}


def test_a_locked_sqlite_database_answers_503(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "app.db"
    db = Database(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 0.2})
    app = App()
    db.init_app(app)

    @app.post("/rows")
    async def add(session: Annotated[AsyncSession, db.depends()]) -> int:
        await session.execute(text("INSERT INTO t VALUES (1)"))
        return 1

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    with TestClient(app) as client:
        holder.execute("BEGIN IMMEDIATE")  # another process writing: the file is locked
        response = client.post("/rows")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert "database is locked" in response.json()["detail"]
        holder.execute("COMMIT")
        time.sleep(1.05)  # an outage ends at the first success a second after the last failure
        assert client.post("/rows").json() == 1
    holder.close()
    assert any("available again" in r.getMessage() for r in caplog.records)


def test_timeouts_are_checked_at_start_up() -> None:
    from trivium.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="timeout=0 is not a number of seconds"):
        Database("sqlite+aiosqlite://", timeout=0)
    with pytest.raises(ConfigurationError, match=r"timeout='5' is not"):
        Database("sqlite+aiosqlite://").depends(timeout="5")  # type: ignore[arg-type]


def test_deadlines_of_finished_requests_leave_nothing_running(tmp_path: Path) -> None:
    from trivium.db._outage import _Watch

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'done.db'}", timeout=30)
    with TestClient(make_app(db)) as client:
        for _ in range(50):
            assert client.get("/one").json() == 1
        watches = [watch for watch in _Watch._by_loop.values() if watch.deadlines]
        assert watches == []  # each request's deadline was dropped when its session closed


def test_a_short_route_deadline_fires_on_time_after_a_longer_one_set_the_timer(
    proxy: FaultProxy,
) -> None:
    db = Database(proxy.url)  # 10 s by default, for the requests already running
    app = make_app(db)
    Quick = Annotated[AsyncSession, db.depends(timeout=0.5)]  # noqa: N806

    @app.get("/quick")
    async def quick(session: Quick) -> int:
        return int((await session.execute(text("SELECT 2"))).scalar_one())

    with TestClient(app) as client:
        assert client.get("/one").json() == 1
        assert client.get("/quick").json() == 2
        proxy.stall()
        started = time.monotonic()
        assert client.get("/quick").status_code == 504
        assert time.monotonic() - started < 2
        proxy.restore()
        assert client.get("/quick").json() == 2
