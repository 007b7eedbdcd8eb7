"""TechEmpower database scenarios written with trivium's own batteries.

`trivium.db` holds the engine (asyncpg, bound to the app's lifespan) and hands each
request a session: in autocommit mode for the read-only scenarios, in one transaction
for `/updates`. `trivium.templating` renders the fortunes page.
"""

from __future__ import annotations

import os
from operator import attrgetter
from pathlib import Path
from random import randint
from typing import Annotated

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium import Request
from trivium.db import Database
from trivium.db import Model
from trivium.responses import HTMLResponse
from trivium.templating import Templates

DATABASE_URL = os.environ.get(
    "BENCH_ASYNC_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


class World(Model):
    __tablename__ = "world"
    id: Mapped[int] = mapped_column(primary_key=True)
    random_number: Mapped[int] = mapped_column("randomnumber")


class Fortune(Model):
    __tablename__ = "fortune"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]


app = App()
db = Database(DATABASE_URL, pool_size=16, max_overflow=0)
db.init_app(app)
templates = Templates(Path(__file__).parent / "templates")
templates.init_app(app)
Session = Annotated[AsyncSession, db.depends()]  # one transaction per request
Reader = Annotated[AsyncSession, db.depends(transaction=False)]  # read-only: autocommit


def clamp_queries(raw: str | None) -> int:
    """Parse the queries parameter: not an integer means 1, and clamp to 1..500."""
    try:
        count = int(raw or "1")
    except ValueError:
        return 1
    return min(max(count, 1), 500)


@app.get("/db")
async def single_query(session: Reader) -> dict[str, int]:
    world = await World.objects(session).get(id=randint(1, 10000))
    return {"id": world.id, "randomNumber": world.random_number}


@app.get("/queries")
async def multiple_queries(session: Reader, queries: str | None = None) -> list[dict[str, int]]:
    worlds = World.objects(session)
    found = [await worlds.get(id=randint(1, 10000)) for _ in range(clamp_queries(queries))]
    return [{"id": world.id, "randomNumber": world.random_number} for world in found]


@app.get("/fortunes")
async def fortunes(request: Request, session: Reader) -> HTMLResponse:
    rows = await Fortune.objects(session).all()
    rows.append(Fortune(id=0, message="Additional fortune added at request time."))
    rows.sort(key=attrgetter("message"))
    return await templates.render(request, "fortunes.html", {"fortunes": rows})


@app.get("/updates")
async def updates(session: Session, queries: str | None = None) -> list[dict[str, int]]:
    ids = sorted(randint(1, 10000) for _ in range(clamp_queries(queries)))  # no deadlocks
    worlds = World.objects(session)
    found = [await worlds.get(id=world_id) for world_id in ids]
    for world in found:
        world.random_number = randint(1, 10000)
    return [{"id": world.id, "randomNumber": world.random_number} for world in found]
