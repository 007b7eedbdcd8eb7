"""A prepared read (`Database.prepare(...).first()`) is bounded as a session's work is.

By the database's `timeout` on its own, and by what is left of the request session's
deadline when the route has one. A read cut off answers 504, stops its statement on the
server and leaves no broken connection in the pool. PostgreSQL (the direct asyncpg path)
and MariaDB (through SQLAlchemy Core) sit behind `FaultProxy` (tests/faults.py).
"""

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Annotated

import anyio
import pytest
from sqlalchemy import literal
from sqlalchemy import select
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
SLEEPING = {"postgresql": "pg_sleep", "mysql": "SLEEP"}


@pytest.fixture(params=SERVERS)
def proxy(request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    with fault_proxy(server_url(request.param)) as running:
        yield running


def read_app(db: Database) -> App:
    app = App()
    db.init_app(app)
    one = db.prepare(select(literal(1).label("one")))

    @app.get("/one")
    async def read_one() -> int:
        row = await one.first()
        return int(row[0]) if row else 0

    @app.get("/after-work")
    async def after_work(session: Annotated[AsyncSession, db.depends()]) -> int:
        await session.execute(text("SELECT 1"))
        await anyio.sleep(0.7)  # most of the 1 s deadline spent before the read
        row = await one.first()
        return int(row[0]) if row else 0

    return app


def test_a_stalled_read_answers_504_within_the_timeout_and_the_pool_recovers(
    proxy: FaultProxy,
) -> None:
    db = Database(proxy.url, timeout=1, pool_size=1, max_overflow=0)
    with TestClient(read_app(db)) as client:
        assert client.get("/one").json() == 1  # the pooled connection is warm
        proxy.stall()
        started = time.monotonic()
        response = client.get("/one")
        elapsed = time.monotonic() - started
        proxy.restore()
        assert response.status_code == 504
        assert response.json() == {"detail": "the database work took longer than 1 s"}
        assert response.headers["retry-after"]
        assert elapsed < 1.8
        # The cut-off connection was dropped, not handed back mid-statement.
        assert [client.get("/one").json() for _ in range(3)] == [1, 1, 1]


def test_a_read_gets_only_what_is_left_of_the_request_deadline(proxy: FaultProxy) -> None:
    db = Database(proxy.url, timeout=1, pool_size=2)
    with TestClient(read_app(db)) as client:
        assert client.get("/after-work").json() == 1
        assert client.get("/one").json() == 1
        started = time.monotonic()
        with stalled_after(proxy, 0.3):
            response = client.get("/after-work")
        elapsed = time.monotonic() - started
        assert response.status_code == 504
        assert response.json() == {"detail": "the database work took longer than 1 s"}
        assert elapsed < 1.6  # the read got the 0.3 s left, not a second of its own
        assert client.get("/one").json() == 1


@contextlib.contextmanager
def stalled_after(proxy: FaultProxy, delay: float) -> Iterator[None]:
    """Stall `proxy` `delay` seconds from now (once the session's own query is done)."""
    timer = threading.Timer(delay, proxy.stall)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        proxy.restore()


@pytest.mark.parametrize("backend", SERVERS)
def test_a_read_cut_off_stops_its_statement_on_the_server(backend: str) -> None:
    marker = f"prepared-{uuid.uuid4().hex}"
    db = Database(server_url(backend), timeout=1)
    app = App()
    db.init_app(app)
    slow = db.prepare(select(text(f"{SLEEPING[backend]}(20) /* {marker} */")))

    @app.get("/slow")
    async def read_slow() -> str:
        await slow.first()
        return "finished"

    with TestClient(app) as client:
        response = client.get("/slow")
    assert response.status_code == 504
    assert running_statements(backend, marker, within=3) == 0
