"""The request deadline (`Database(timeout=)`) covers all of a request's database work.

A statement cut off by the deadline is cancelled on the server too; the pool wait, the
ping of an idle pooled connection and reconnecting fit inside the deadline; and an
exhausted pool answers the busy 503, not the deadline's 504. PostgreSQL (and MariaDB
where it applies) sit behind `FaultProxy` (tests/faults.py) as in test_outages.py.
"""

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Annotated

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from tests.db.servers import BACKENDS
from tests.db.servers import running_statements
from tests.db.servers import server_url
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium import App
from trivium.db import Database
from trivium.testing import TestClient

SERVERS = sorted(BACKENDS)


@pytest.fixture(params=SERVERS)
def proxy(request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    with fault_proxy(server_url(request.param)) as running:
        yield running


def make_app(db: Database) -> App:
    app = App()
    db.init_app(app)

    @app.get("/one")
    async def one(session: Annotated[AsyncSession, db.depends()]) -> int:
        return int((await session.execute(text("SELECT 1"))).scalar_one())

    return app


SLEEP = {"postgresql": "SELECT pg_sleep(20)", "mysql": "SELECT SLEEP(20)"}


@pytest.mark.parametrize("backend", SERVERS)
def test_a_statement_cut_off_by_the_deadline_stops_on_the_server(backend: str) -> None:
    marker = f"deadline-{uuid.uuid4().hex}"
    db = Database(server_url(backend), timeout=1)
    app = App()
    db.init_app(app)

    @app.get("/sleep")
    async def sleep(session: Annotated[AsyncSession, db.depends()]) -> str:
        await session.execute(text(f"{SLEEP[backend]} /* {marker} */"))
        return "finished"

    with TestClient(app) as client:
        response = client.get("/sleep")
        assert response.status_code == 504
        assert response.json() == {"detail": "the database work took longer than 1 s"}
        assert running_statements(backend, marker, within=2) == 0


def test_pinging_and_reconnecting_a_stalled_database_fit_in_the_deadline(
    proxy: FaultProxy,
) -> None:
    # Idle longer than ping_after: the checkout pings the connection, the ping gets no
    # answer, and the pool connects anew, all of it bounded by the 1 s deadline.
    db = Database(proxy.url, timeout=1, ping_after=0.05, pool_size=1)
    with TestClient(make_app(db)) as client:
        assert client.get("/one").json() == 1
        time.sleep(0.1)
        proxy.stall()
        started = time.monotonic()
        response = client.get("/one")
        elapsed = time.monotonic() - started
        proxy.restore()
        assert response.status_code == 504
        assert response.json() == {"detail": "the database work took longer than 1 s"}
        assert elapsed < 1.5
        time.sleep(0.1)
        assert client.get("/one").json() == 1


def test_connecting_to_a_stalled_database_fits_in_the_deadline(proxy: FaultProxy) -> None:
    # The driver's own connect timeout is longer than the deadline: the deadline wins.
    driver_timeout = {"timeout": 10} if "postgres" in proxy.url else {"connect_timeout": 10}
    db = Database(proxy.url, timeout=1, connect_args=driver_timeout, pool_size=1)
    with TestClient(make_app(db)) as client:
        assert client.get("/one").json() == 1
        proxy.reset()  # the pooled connection is gone: the next checkout connects
        proxy.stall()  # ... to a server that accepts and never answers
        started = time.monotonic()
        response = client.get("/one")
        elapsed = time.monotonic() - started
        proxy.restore()
        assert response.status_code == 504
        assert elapsed < 1.5


def test_an_exhausted_pool_answers_the_busy_503_before_the_deadline(proxy: FaultProxy) -> None:
    # pool_timeout is left to its default, shorter than the deadline.
    db = Database(proxy.url, timeout=1, pool_size=1, max_overflow=0)
    app = make_app(db)

    @app.get("/two")
    async def two(session: Annotated[AsyncSession, db.depends()]) -> int:
        await session.execute(text("SELECT 1"))  # holds the only connection
        async with db.sessionmaker() as other:
            return int((await other.execute(text("SELECT 2"))).scalar_one())

    assert db.pool_timeout == 0.5
    with TestClient(app) as client:
        started = time.monotonic()
        response = client.get("/two")
        assert response.status_code == 503
        assert response.json() == {
            "detail": "the database is busy: no connection became free within 0.5 s"
        }
        assert time.monotonic() - started < 0.9
        assert client.get("/one").json() == 1


def test_a_pool_wait_longer_than_the_deadline_ends_with_the_deadline_as_busy(
    proxy: FaultProxy,
) -> None:
    db = Database(proxy.url, timeout=1, pool_size=1, max_overflow=0, pool_timeout=5)
    app = make_app(db)

    @app.get("/two")
    async def two(session: Annotated[AsyncSession, db.depends()]) -> int:
        await session.execute(text("SELECT 1"))
        async with db.sessionmaker() as other:
            return int((await other.execute(text("SELECT 2"))).scalar_one())

    with TestClient(app) as client:
        started = time.monotonic()
        response = client.get("/two")
        assert response.status_code == 503
        assert response.json() == {
            "detail": "the database is busy: no connection became free within 1 s"
        }
        assert time.monotonic() - started < 1.5
        assert client.get("/one").json() == 1


def test_the_outage_line_of_a_stall_names_the_deadline(
    proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    db = Database(proxy.url, timeout=0.5, pool_size=1)
    with TestClient(make_app(db)) as client:
        assert client.get("/one").json() == 1
        proxy.stall()
        assert client.get("/one").status_code == 504
        proxy.restore()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        "database 'default' unavailable, answering 503/504 until it recovers: "
        "the database work took longer than 0.5 s"
    ]


def test_the_pool_logs_its_per_connection_lines_at_debug_only(
    proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    db = Database(proxy.url, pool_size=2)
    with TestClient(make_app(db)) as client:
        assert client.get("/one").json() == 1
        proxy.cut()
        assert client.get("/one").status_code == 503
        proxy.restore()
        assert client.get("/one").json() == 1
    pool_lines = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.name.startswith(("trivium.db._pool", "sqlalchemy"))
    ]
    assert pool_lines == []  # no "Invalidate connection", "Pool disposed", ...
