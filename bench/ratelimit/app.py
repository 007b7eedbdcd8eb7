"""The rate limit benchmark's app: one JSON route, unlimited and limited in memory / Redis.

Limits are far above what the server can serve, so every request is admitted and the
cost measured is the check itself (one GCRA update per request, plus the headers).
With `BENCH_RATELIMIT_DATABASE` (a `postgresql+asyncpg://` URL) it also serves a route
that does what an API route usually does, one PostgreSQL read, unlimited and limited.
"""

from __future__ import annotations

import os

from trivium import App
from trivium import Request
from trivium.http import HTTPConnection
from trivium.plugins import Gate
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.ratelimit import RateLimit
from trivium.ratelimit import RateLimits
from trivium.responses import Response

STORE = os.environ.get("BENCH_RATELIMIT_STORE") or None  # a redis:// URL, or memory
DATABASE = os.environ.get("BENCH_RATELIMIT_DATABASE") or None
HUGE = "1000000/second"  # one per microsecond, the finest a limit counts

app = App(plugins=[RateLimits(STORE, prefix="bench-ratelimit:")], openapi_url=None)


@app.get("/plain")
async def plain() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/limited", rate_limit=RateLimit(HUGE))
async def limited() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/limited-by-user", rate_limit=RateLimit(HUGE, key=lambda r: r.headers.get("x-user")))
async def limited_many_keys() -> dict[str, str]:
    return {"hello": "world"}


class _Noop(RequestStep):
    """A step that does nothing: what any route with a request step costs, for reference."""

    async def after(self, request: Request, response: Response | None) -> None:
        return None


class _NoopGate(Gate):
    """A gate that does nothing: what the rate limit's gate costs before its check."""

    def before(self, connection: HTTPConnection) -> None:
        return None

    def after(self, connection: HTTPConnection, response: Response | None) -> None:
        return None


class _Stepped(Plugin):
    route_options = ("noop", "noop_gate")

    def request_steps(self, route: RouteNeeds) -> list[RequestStep]:
        if "noop_gate" in route.options:
            return [_NoopGate()]
        return [_Noop()] if "noop" in route.options else []


app.install(_Stepped())


@app.get("/stepped", plugin_options={"noop": True})
async def stepped() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/gated", plugin_options={"noop_gate": True})
async def gated() -> dict[str, str]:
    return {"hello": "world"}


if DATABASE:
    from sqlalchemy import literal
    from sqlalchemy import select

    from trivium.db import Database

    db = Database(DATABASE, pool_size=16, max_overflow=0)
    db.init_app(app)
    one_row = db.prepare(select(literal(1).label("one")))

    @app.get("/db")
    async def read_row() -> dict[str, int]:
        row = await one_row.first()
        return {"one": row[0] if row else 0}

    @app.get("/db-limited", rate_limit=RateLimit(HUGE))
    async def read_row_limited() -> dict[str, int]:
        row = await one_row.first()
        return {"one": row[0] if row else 0}
