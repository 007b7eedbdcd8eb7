"""A request session holding one new row commits it without `BEGIN`/`COMMIT` on PostgreSQL.

The outcome must be the same as in a transaction on every backend: the row is written
or, on an error, nothing is. These tests check both the outcome (all backends) and, on
PostgreSQL, which statements ran inside a transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import String
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.testing import TestClient

SUFFIX = uuid.uuid4().hex[:8]


class Entry(IntPK, Model):
    __tablename__ = f"lone_entries_{SUFFIX}"
    text: Mapped[str] = mapped_column(String(100), unique=True)


def entries_app(db: Database) -> App:
    app = App()
    db.init_app(app)

    @app.post("/one")
    async def one(text: str, session: AsyncSession = db.depends()) -> dict[str, bool]:
        session.add(Entry(text=text))
        return {"ok": True}

    @app.post("/two")
    async def two(first: str, second: str, session: AsyncSession = db.depends()) -> None:
        session.add_all([Entry(text=first), Entry(text=second)])

    @app.post("/after-a-read")
    async def after_a_read(text: str, session: AsyncSession = db.depends()) -> dict[str, int]:
        count = await session.scalar(select(func.count()).select_from(Entry))
        session.add(Entry(text=text))
        return {"before": count or 0}

    @app.get("/texts")
    async def texts(session: AsyncSession = db.depends()) -> list[str]:
        return [entry.text for entry in await Entry.objects(session).order_by("id").all()]

    return app


@pytest.fixture
def inserts(db: Database) -> Iterator[list[bool | None]]:
    """For each INSERT into the entries table: whether it ran in a transaction (PostgreSQL)."""
    seen: list[bool | None] = []

    def record(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        del cursor, rest
        if statement.startswith("INSERT") and Entry.__tablename__ in statement:
            driver = connection.connection.driver_connection
            probe = getattr(driver, "is_in_transaction", None)  # asyncpg
            seen.append(probe() if probe is not None else None)

    engine = db.engine.sync_engine
    event.listen(engine, "after_cursor_execute", record)
    yield seen
    event.remove(engine, "after_cursor_execute", record)


def _postgres(db: Database) -> bool:
    return db.url.get_backend_name() == "postgresql"


def test_a_lone_new_row_is_written_in_one_statement(db: Database, inserts: list[Any]) -> None:
    with TestClient(entries_app(db)) as client:
        assert client.post("/one", params={"text": "kept"}).json() == {"ok": True}
        assert client.get("/texts").json() == ["kept"]
    assert len(inserts) == 1
    if _postgres(db):
        assert inserts == [False]  # no BEGIN: the INSERT committed on its own


def test_a_lone_row_that_fails_writes_nothing(db: Database, inserts: list[Any]) -> None:
    with TestClient(entries_app(db), raise_server_exceptions=False) as client:
        assert client.post("/one", params={"text": "same"}).status_code == 200
        assert client.post("/one", params={"text": "same"}).status_code == 500
        # The connection went back to the pool usable: the next writes and reads work.
        assert client.post("/one", params={"text": "other"}).status_code == 200
        assert client.get("/texts").json() == ["same", "other"]


def test_two_new_rows_commit_together_or_not_at_all(db: Database, inserts: list[Any]) -> None:
    with TestClient(entries_app(db), raise_server_exceptions=False) as client:
        assert client.post("/one", params={"text": "taken"}).status_code == 200
        response = client.post("/two", params={"first": "fresh", "second": "taken"})
        assert response.status_code == 500
        assert client.get("/texts").json() == ["taken"]  # "fresh" was rolled back
        assert client.post("/two", params={"first": "a", "second": "b"}).status_code == 200
        assert client.get("/texts").json() == ["taken", "a", "b"]
    if _postgres(db):
        assert inserts[0] is False
        assert True in inserts[1:]
        assert False not in inserts[1:]


def test_a_row_after_a_read_shares_its_transaction(db: Database, inserts: list[Any]) -> None:
    with TestClient(entries_app(db)) as client:
        assert client.post("/after-a-read", params={"text": "x"}).json() == {"before": 0}
        assert client.post("/after-a-read", params={"text": "y"}).json() == {"before": 1}
    if _postgres(db):
        assert inserts == [True, True]


def test_flush_listeners_keep_the_transaction(db: Database, inserts: list[Any]) -> None:
    flushed: list[int] = []

    def before_flush(session: Session, *args: Any) -> None:
        del args
        flushed.append(len(session.new))

    event.listen(db.session_class, "before_flush", before_flush)
    try:
        with TestClient(entries_app(db)) as client:
            assert client.post("/one", params={"text": "audited"}).status_code == 200
            assert client.get("/texts").json() == ["audited"]
    finally:
        event.remove(db.session_class, "before_flush", before_flush)
    assert flushed == [1]
    if _postgres(db):
        assert inserts == [True]  # a listener may write more: the flush stays one transaction


def test_after_commit_listeners_still_run(db: Database) -> None:
    committed: list[int] = []

    def after_commit(session: Session) -> None:
        del session
        committed.append(1)

    event.listen(db.session_class, "after_commit", after_commit)
    try:
        with TestClient(entries_app(db)) as client:
            assert client.post("/one", params={"text": "told"}).status_code == 200
    finally:
        event.remove(db.session_class, "after_commit", after_commit)
    assert committed == [1]
