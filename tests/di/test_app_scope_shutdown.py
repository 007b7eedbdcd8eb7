"""App-scoped dependencies at shutdown: closed before the lifespans, errors logged."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Any

import pytest

from trivium import App
from trivium import Depends
from trivium.plugins import Plugin
from trivium.testing import TestClient


def test_app_scoped_values_close_before_the_lifespans_exit() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        events.append("engine start")
        yield
        events.append("engine dispose")

    async def connection() -> AsyncIterator[str]:
        events.append("connection open")
        yield "conn"
        events.append("connection close")

    app = App(lifespan=lifespan)

    @app.get("/")
    async def index(conn: str = Depends(connection, scope="app")) -> str:
        return conn

    with TestClient(app) as client:
        assert client.get("/").json() == "conn"
    assert events == ["engine start", "connection open", "connection close", "engine dispose"]


class _Engine(Plugin):
    def __init__(self, events: list[str]) -> None:
        self.events = events

    @contextlib.asynccontextmanager
    async def _run(self) -> AsyncIterator[None]:
        self.events.append("plugin start")
        yield
        self.events.append("plugin stop")

    def lifespan(self, app: App) -> Any:
        del app
        return self._run()


def test_app_scoped_values_close_before_a_plugin_lifespan_exits() -> None:
    events: list[str] = []

    def connection() -> Iterator[str]:
        events.append("connection open")
        yield "conn"
        events.append("connection close")

    app = App(plugins=[_Engine(events)])

    @app.get("/")
    async def index(conn: str = Depends(connection, scope="app")) -> str:
        return conn

    with TestClient(app) as client:
        client.get("/")
    assert events == ["plugin start", "connection open", "connection close", "plugin stop"]


def test_app_scoped_teardown_error_is_logged_at_shutdown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed: list[str] = []

    async def pool() -> AsyncIterator[str]:
        yield "pool"
        raise RuntimeError("pool close failed")

    async def client_session() -> AsyncIterator[str]:
        yield "session"
        closed.append("session")

    app = App()

    @app.get("/")
    async def index(
        p: str = Depends(pool, scope="app"), s: str = Depends(client_session, scope="app")
    ) -> list[str]:
        return [p, s]

    with caplog.at_level(logging.ERROR, logger="trivium.error"), TestClient(app) as client:
        assert client.get("/").json() == ["pool", "session"]
    assert closed == ["session"]
    failures = [r for r in caplog.records if r.getMessage() == "dependency teardown failed"]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert str(failures[0].exc_info[1]) == "pool close failed"


def test_app_scoped_teardown_without_error_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    async def pool() -> AsyncIterator[str]:
        yield "pool"

    app = App()

    @app.get("/")
    async def index(p: str = Depends(pool, scope="app")) -> str:
        return p

    with caplog.at_level(logging.ERROR, logger="trivium.error"), TestClient(app) as client:
        client.get("/")
    assert not caplog.records
