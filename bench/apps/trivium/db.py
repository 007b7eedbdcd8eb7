"""TechEmpower database scenarios with trivium, SQLAlchemy 2 async and asyncpg.

The engine is app-scoped: the lifespan creates it and stores a session factory on
``app.state``; a yield dependency hands each request its own session.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from operator import attrgetter
from pathlib import Path
from random import randint
from typing import Annotated

from jinja2 import Environment
from jinja2 import FileSystemLoader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium import Depends
from trivium.responses import HTMLResponse

DATABASE_URL = os.environ.get(
    "BENCH_ASYNC_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
)


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


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    engine = create_async_engine(DATABASE_URL, pool_size=16, max_overflow=0)
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    yield
    await engine.dispose()


app = App(lifespan=lifespan)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with app.state.sessionmaker() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


def clamp_queries(raw: str | None) -> int:
    """Parse the queries parameter: not an integer means 1, and clamp to 1..500."""
    try:
        count = int(raw or "1")
    except ValueError:
        return 1
    return min(max(count, 1), 500)


async def fetch_world(session: AsyncSession, world_id: int) -> World:
    world = await session.scalar(select(World).where(World.id == world_id))
    assert world is not None
    return world


@app.get("/db")
async def single_query(session: Session) -> dict[str, int]:
    world = await fetch_world(session, randint(1, 10000))
    return {"id": world.id, "randomNumber": world.random_number}


@app.get("/queries")
async def multiple_queries(session: Session, queries: str | None = None) -> list[dict[str, int]]:
    worlds = [await fetch_world(session, randint(1, 10000)) for _ in range(clamp_queries(queries))]
    return [{"id": world.id, "randomNumber": world.random_number} for world in worlds]


@app.get("/fortunes")
async def fortunes(session: Session) -> HTMLResponse:
    rows = list(await session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message="Additional fortune added at request time."))
    rows.sort(key=attrgetter("message"))
    return HTMLResponse(TEMPLATES.get_template("fortunes.html").render(fortunes=rows))


@app.get("/updates")
async def updates(session: Session, queries: str | None = None) -> list[dict[str, int]]:
    ids = sorted(randint(1, 10000) for _ in range(clamp_queries(queries)))  # no deadlocks
    worlds = [await fetch_world(session, world_id) for world_id in ids]
    for world in worlds:
        world.random_number = randint(1, 10000)
    await session.commit()
    return [{"id": world.id, "randomNumber": world.random_number} for world in worlds]
