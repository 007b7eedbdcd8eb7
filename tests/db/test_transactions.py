from __future__ import annotations

import uuid

import anyio
import pytest
from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium import HTTPException
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import atomic
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient

SUFFIX = uuid.uuid4().hex[:8]


class Note(IntPK, Model):
    __tablename__ = f"tx_notes_{SUFFIX}"
    text: Mapped[str] = mapped_column(String(100), unique=True)


class Counter(IntPK, Model):
    __tablename__ = f"tx_counters_{SUFFIX}"
    value: Mapped[int] = mapped_column(default=0)


def notes_app(db: Database) -> App:
    app = App()
    db.init_app(app)

    @app.post("/notes")
    async def create(text: str, session: AsyncSession = db.depends()) -> dict[str, int]:
        note = await Note.objects(session).create(text=text)
        return {"id": note.id}

    @app.post("/notes/fail")
    async def create_then_fail(text: str, session: AsyncSession = db.depends()) -> None:
        await Note.objects(session).create(text=text)
        raise HTTPException(409, "changed my mind")

    @app.post("/notes/late-conflict")
    async def late_conflict(text: str, session: AsyncSession = db.depends()) -> dict[str, bool]:
        session.add(Note(text=text))  # not flushed: the unique violation surfaces at commit
        return {"ok": True}

    @app.get("/notes")
    async def texts(session: AsyncSession = db.depends()) -> list[str]:
        return [note.text for note in await Note.objects(session).order_by("id").all()]

    return app


def test_session_commits_when_the_handler_succeeds(db: Database) -> None:
    with TestClient(notes_app(db)) as client:
        assert client.post("/notes", params={"text": "kept"}).status_code == 200
        assert client.get("/notes").json() == ["kept"]


def test_session_rolls_back_when_the_handler_raises(db: Database) -> None:
    with TestClient(notes_app(db)) as client:
        response = client.post("/notes/fail", params={"text": "gone"})
        assert response.status_code == 409
        assert response.json() == {"detail": "changed my mind"}
        assert client.get("/notes").json() == []


def test_commit_failure_becomes_an_error_response(db: Database) -> None:
    with TestClient(notes_app(db), raise_server_exceptions=False) as client:
        assert client.post("/notes", params={"text": "same"}).status_code == 200
        response = client.post("/notes/late-conflict", params={"text": "same"})
        assert response.status_code == 500
        assert client.get("/notes").json() == ["same"]


def test_commit_failure_reaches_the_test_client(db: Database) -> None:
    with TestClient(notes_app(db)) as client:
        client.post("/notes", params={"text": "same"})
        with pytest.raises(IntegrityError):
            client.post("/notes/late-conflict", params={"text": "same"})


def test_atomic_rolls_back_only_its_own_block(db: Database) -> None:
    app = App()
    db.init_app(app)

    @app.post("/batch")
    async def batch(session: AsyncSession = db.depends()) -> dict[str, int]:
        await Note.objects(session).create(text="outer")
        try:
            async with atomic(session):
                await Note.objects(session).create(text="inner")
                raise RuntimeError("undo the inner block")
        except RuntimeError:
            pass
        async with db.atomic(session), atomic(session):
            await Note.objects(session).create(text="nested")
        return {"count": await Note.objects(session).count()}

    with TestClient(app) as client:
        assert client.post("/batch").json() == {"count": 2}
    with TestClient(notes_app(Database(db.url))) as client:
        assert client.get("/notes").json() == ["outer", "nested"]


@pytest.mark.anyio
async def test_concurrent_increments_of_one_row_lose_nothing(db: Database) -> None:
    app = App()
    db.init_app(app)

    @app.post("/counters")
    async def new_counter(session: AsyncSession = db.depends()) -> dict[str, int]:
        return {"id": (await Counter.objects(session).create()).id}

    @app.post("/counters/{counter_id}/increment")
    async def increment(counter_id: int, session: AsyncSession = db.depends()) -> dict[str, int]:
        counter = await Counter.objects(session).select_for_update().get(id=counter_id)
        await anyio.sleep(0.001)  # let the other requests run between the read and the write
        counter.value += 1
        return {"value": counter.value}

    @app.get("/counters/{counter_id}")
    async def read(counter_id: int, session: AsyncSession = db.depends()) -> dict[str, int]:
        return {"value": (await Counter.objects(session).get(id=counter_id)).value}

    requests = 20
    async with AsyncTestClient(app) as client:
        counter_id = (await client.post("/counters")).json()["id"]
        statuses: list[int] = []

        async def bump() -> None:
            statuses.append((await client.post(f"/counters/{counter_id}/increment")).status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(requests):
                tg.start_soon(bump)
        assert statuses == [200] * requests
        assert (await client.get(f"/counters/{counter_id}")).json() == {"value": requests}


def autocommit_app(db: Database) -> App:
    app = App()
    db.init_app(app)

    @app.get("/notes")
    async def texts(session: AsyncSession = db.depends(transaction=False)) -> list[str]:
        return [note.text for note in await Note.objects(session).order_by("id").all()]

    @app.post("/notes/then-fail")
    async def write_then_fail(
        text: str, session: AsyncSession = db.depends(transaction=False)
    ) -> None:
        await Note.objects(session).create(text=text)  # committed on its own at once
        raise HTTPException(409, "too late to take it back")

    @app.post("/notes/pending")
    async def pending(text: str, session: AsyncSession = db.depends(transaction=False)) -> None:
        session.add(Note(text=text))  # flushed after the handler, before the response

    return app


def test_autocommit_session_reads(db: Database) -> None:
    with TestClient(notes_app(db)) as client:
        client.post("/notes", params={"text": "first"})
    with TestClient(autocommit_app(db)) as client:
        assert client.get("/notes").json() == ["first"]


def test_autocommit_session_keeps_statements_that_ran_before_an_error(db: Database) -> None:
    with TestClient(autocommit_app(db)) as client:
        assert client.post("/notes/then-fail", params={"text": "kept"}).status_code == 409
        assert client.get("/notes").json() == ["kept"]


def test_autocommit_session_flushes_pending_changes(db: Database) -> None:
    with TestClient(autocommit_app(db)) as client:
        assert client.post("/notes/pending", params={"text": "added"}).status_code == 200
        assert client.get("/notes").json() == ["added"]


@pytest.mark.anyio
async def test_autocommit_statements_are_visible_to_other_connections_at_once(
    db: Database,
) -> None:
    async with db.autocommit_sessionmaker() as writer, db.sessionmaker() as reader:
        writer.add(Note(text="seen"))
        await writer.flush()  # no commit: autocommit already made it durable
        assert [n.text for n in await Note.objects(reader).all()] == ["seen"]
    await db.dispose()
