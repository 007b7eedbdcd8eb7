"""TechEmpower database scenarios with Flask, SQLAlchemy 2 (sync) and psycopg 3."""

from __future__ import annotations

import os
from operator import attrgetter
from random import randint

from flask import Flask
from flask import render_template
from flask import request
from sqlalchemy import create_engine
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

DATABASE_URL = os.environ.get(
    "BENCH_SYNC_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# One connection per server thread (gunicorn --threads 8, granian --blocking-threads 8).
engine = create_engine(DATABASE_URL, pool_size=8, max_overflow=0)
app = Flask(__name__)


class Base(DeclarativeBase):
    pass


class World(Base):
    __tablename__ = "world"
    id: Mapped[int] = mapped_column(primary_key=True)
    random_number: Mapped[int] = mapped_column("randomnumber")


class Fortune(Base):
    __tablename__ = "fortune"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]


def clamp_queries(raw: str | None) -> int:
    """Parse the queries parameter: not an integer means 1, and clamp to 1..500."""
    try:
        count = int(raw or "1")
    except ValueError:
        return 1
    return min(max(count, 1), 500)


def fetch_world(session: Session, world_id: int) -> World:
    world = session.scalar(select(World).where(World.id == world_id))
    assert world is not None
    return world


@app.get("/db")
def single_query():
    with Session(engine) as session:
        world = fetch_world(session, randint(1, 10000))
        return {"id": world.id, "randomNumber": world.random_number}


@app.get("/queries")
def multiple_queries():
    count = clamp_queries(request.args.get("queries"))
    with Session(engine) as session:
        worlds = [fetch_world(session, randint(1, 10000)) for _ in range(count)]
        return [{"id": world.id, "randomNumber": world.random_number} for world in worlds]


@app.get("/fortunes")
def fortunes():
    with Session(engine) as session:
        rows = list(session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message="Additional fortune added at request time."))
    rows.sort(key=attrgetter("message"))
    return render_template("fortunes.html", fortunes=rows)


@app.get("/updates")
def updates():
    ids = sorted(randint(1, 10000) for _ in range(clamp_queries(request.args.get("queries"))))
    with Session(engine, expire_on_commit=False) as session:
        worlds = [fetch_world(session, world_id) for world_id in ids]  # sorted: no deadlocks
        for world in worlds:
            world.random_number = randint(1, 10000)
        session.commit()
    return [{"id": world.id, "randomNumber": world.random_number} for world in worlds]
