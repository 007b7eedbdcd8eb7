"""A lone new row written on the driver (PostgreSQL) is the row the ORM would have written.

Every test here runs the same request twice, once as it is served (the row written
by `db/_direct.py`) and once with that path switched off (the ORM's unit of work), and
compares what reached the database and what the object holds afterwards. The spy on
`insert_directly` says which path each request took, so a test fails if the direct
path silently stops being used as well as if it writes something else.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import JSON
from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import delete
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium.db import UUIDPK
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Timestamps
from trivium.db import _commit
from trivium.testing import TestClient

SUFFIX = uuid.uuid4().hex[:8]


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def _stock() -> int:
    return 7


class Parent(IntPK, Model):
    __tablename__ = f"direct_parents_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(50), unique=True)


class Thing(IntPK, Timestamps, Model):
    __tablename__ = f"direct_things_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(50), unique=True)
    note: Mapped[str | None] = mapped_column(String(50))
    color: Mapped[Color] = mapped_column(
        Enum(Color, name=f"direct_color_{SUFFIX}"), default=Color.BLUE
    )
    stock: Mapped[int] = mapped_column(default=_stock)
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), default=decimal.Decimal("1.50"))
    active: Mapped[bool] = mapped_column(default=True)
    due: Mapped[datetime.date | None]
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey(f"{Parent.__tablename__}.id"))


class Token(UUIDPK, Model):
    __tablename__ = f"direct_tokens_{SUFFIX}"
    label: Mapped[str] = mapped_column(String(50))


class Stamped(IntPK, Model):
    __tablename__ = f"direct_stamped_{SUFFIX}"
    label: Mapped[str] = mapped_column(String(50))
    made: Mapped[datetime.datetime] = mapped_column(server_default=func.now())


@pytest.fixture
def pg(db: Database) -> Database:
    if db.url.get_backend_name() != "postgresql":
        pytest.skip("the direct path is PostgreSQL's (asyncpg)")
    return db


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """What `insert_directly` answered for each lone row (True: written on the driver)."""
    answers: list[bool] = []
    real = _commit.insert_directly

    async def spy(session: AsyncSession) -> bool:
        answers.append(await real(session))
        return answers[-1]

    monkeypatch.setattr(_commit, "insert_directly", spy)
    return answers


def _off(monkeypatch: pytest.MonkeyPatch) -> None:
    async def never(session: AsyncSession) -> bool:
        del session
        return False

    monkeypatch.setattr(_commit, "insert_directly", never)


CASES: list[dict[str, Any]] = [
    {"name": "bare"},
    {
        "name": "full",
        "note": "n",
        "color": Color.RED,
        "stock": 3,
        "price": decimal.Decimal("9.99"),
        "active": False,
    },
    {
        "name": "nones",
        "note": None,
        "stock": None,  # None on a column with a default: the ORM leaves it to the default
        "due": datetime.date(2026, 12, 5),
        "extra": {"a": [1, 2]},
    },
    {"name": "json null", "extra": None},  # JSON stores None itself (as JSON null)
]
COLUMNS = ["name", "note", "color", "stock", "price", "active", "due", "extra", "parent_id"]
kept: list[Any] = []


def things_app(db: Database) -> App:
    app = App()
    db.init_app(app)

    @app.post("/things/{case}")
    async def add(case: int, session: AsyncSession = db.depends()) -> None:
        kept.append(Thing(**CASES[case]))
        session.add(kept[-1])

    @app.post("/things-named/{name}")
    async def named(
        name: str, parent_id: int | None = None, session: AsyncSession = db.depends()
    ) -> None:
        session.add(Thing(name=name, parent_id=parent_id))

    @app.get("/things")
    async def things(session: AsyncSession = db.depends()) -> list[str]:
        rows = (await session.scalars(select(Thing).order_by(Thing.id))).all()
        return [repr({c: getattr(t, c) for c in COLUMNS}) for t in rows]

    @app.post("/tokens")
    async def token(label: str, session: AsyncSession = db.depends()) -> None:
        kept.append(Token(label=label))
        session.add(kept[-1])

    @app.post("/stamped")
    async def stamped(label: str, session: AsyncSession = db.depends()) -> None:
        kept.append(Stamped(label=label))
        session.add(kept[-1])

    @app.delete("/things")
    async def clear(session: AsyncSession = db.depends()) -> None:
        await session.execute(delete(Thing))

    @app.get("/names")
    async def names(session: AsyncSession = db.depends()) -> list[str]:
        return list((await session.scalars(select(Thing.name).order_by(Thing.id))).all())

    return app


def _attributes(thing: Thing) -> dict[str, Any]:
    values = {c: getattr(thing, c) for c in COLUMNS}
    state = inspect(thing)
    values["detached with identity"] = state.detached and state.key == (Thing, (thing.id,), None)
    values["unmodified"] = not state.modified
    values["stamped"] = isinstance(thing.created_at, datetime.datetime)
    return values


def _run_cases(db: Database) -> tuple[list[str], list[dict[str, Any]]]:
    kept.clear()
    with TestClient(things_app(db)) as client:
        assert client.delete("/things").status_code == 200
        for case in range(len(CASES)):
            assert client.post(f"/things/{case}").status_code == 200
        rows = client.get("/things").json()
    return rows, [_attributes(thing) for thing in kept]


def test_rows_and_objects_match_the_unit_of_work(
    pg: Database, taken: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    direct_rows, direct_objects = _run_cases(pg)
    assert taken == [True] * len(CASES)
    ids = [thing.id for thing in kept]
    assert ids == sorted(ids)

    _off(monkeypatch)
    orm_rows, orm_objects = _run_cases(pg)
    assert direct_rows == orm_rows
    assert direct_objects == orm_objects
    assert all(
        o["detached with identity"] and o["unmodified"] and o["stamped"] for o in orm_objects
    )
    assert [o["stock"] for o in direct_objects] == [7, 3, 7, 7]


def test_a_client_side_key_and_a_server_default(pg: Database, taken: list[bool]) -> None:
    kept.clear()
    with TestClient(things_app(pg)) as client:
        assert client.post("/tokens", params={"label": "t"}).status_code == 200
        assert client.post("/stamped", params={"label": "s"}).status_code == 200
    token, stamped = kept
    assert isinstance(token.id, uuid.UUID)
    assert inspect(token).key == (Token, (token.id,), None)
    assert taken == [True, False]  # a server default is the ORM's to fetch
    assert isinstance(stamped.made, datetime.datetime)


def test_a_refused_row_raises_the_orm_error_and_writes_nothing(
    pg: Database, taken: list[bool]
) -> None:
    with TestClient(things_app(pg), raise_server_exceptions=False) as client:
        assert client.post("/things-named/once").status_code == 200
        assert client.post("/things-named/once").status_code == 500  # unique
        assert client.post("/things-named/orphan", params={"parent_id": 999999}).status_code == 500
        # The connection went back to the pool usable.
        assert client.post("/things-named/after").status_code == 200
        assert client.get("/names").json() == ["once", "after"]
    assert taken == [True, False, False, True]  # refused: nothing written, the ORM answered


def test_statement_listeners_keep_sqlalchemy(pg: Database, taken: list[bool]) -> None:
    seen: list[str] = []

    def record(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        del connection, cursor, rest
        seen.append(statement.split()[0])

    engine = pg.engine.sync_engine
    event.listen(engine, "after_cursor_execute", record)
    try:
        with TestClient(things_app(pg)) as client:
            assert client.post("/things-named/watched").status_code == 200
    finally:
        event.remove(engine, "after_cursor_execute", record)
    assert taken == [False]
    assert "INSERT" in seen


def test_statement_only_listeners_are_told(pg: Database, taken: list[bool]) -> None:
    seen: list[tuple[str, Any]] = []

    def record(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        del cursor, rest
        connection.info["seen"] = True
        seen.append((statement.split()[0], statement.split()[2]))

    record.statement_only = True  # type: ignore[attr-defined]
    engine = pg.engine.sync_engine
    event.listen(engine, "after_cursor_execute", record)
    try:
        with TestClient(things_app(pg)) as client:
            assert client.post("/things-named/told").status_code == 200
    finally:
        event.remove(engine, "after_cursor_execute", record)
    assert taken == [True]
    assert ("INSERT", Thing.__tablename__) in seen
