"""The cache benchmark's app: TechEmpower's fortunes page, uncached and cached.

`/fortunes` reads every fortune row from PostgreSQL and renders the Jinja2 page on each
request; `/fortunes-cached` is the same handler with `cache=CacheRule(60)`. The cache's
store comes from `BENCH_CACHE_STORE` (`memory`, or a Redis URL).
"""

from __future__ import annotations

import os
from operator import attrgetter
from pathlib import Path
from typing import Annotated

from bench.apps.trivium.db import Fortune
from sqlalchemy.ext.asyncio import AsyncSession

from trivium import App
from trivium import Request
from trivium.cache import Cache
from trivium.cache import CacheRule
from trivium.db import Database
from trivium.responses import HTMLResponse
from trivium.templating import Templates

DATABASE_URL = os.environ.get(
    "BENCH_ASYNC_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
STORE = os.environ.get("BENCH_CACHE_STORE", "memory")

cache = Cache(None if STORE == "memory" else STORE, prefix="bench-cache:")
db = Database(DATABASE_URL, pool_size=16, max_overflow=0)
templates = Templates(Path(__file__).parents[1] / "apps" / "trivium" / "templates")
app = App(plugins=[db, templates, cache])
Reader = Annotated[AsyncSession, db.depends(transaction=False)]


async def page(request: Request, session: AsyncSession) -> HTMLResponse:
    rows = await Fortune.objects(session).all()
    rows.append(Fortune(id=0, message="Additional fortune added at request time."))
    rows.sort(key=attrgetter("message"))
    return await templates.render(request, "fortunes.html", {"fortunes": rows})


@app.get("/fortunes")
async def fortunes(request: Request, session: Reader) -> HTMLResponse:
    return await page(request, session)


@app.get("/fortunes-cached", cache=CacheRule(60))
async def fortunes_cached(request: Request, session: Reader) -> HTMLResponse:
    return await page(request, session)
