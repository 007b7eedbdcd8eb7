"""A request step whose `before` is a plain function: it waits only when it must.

Clients known to be far under their quota are let through without a coroutine; the
others are counted in a `Store` (an awaitable handed back to the route).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from collections.abc import Sequence

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium.http import HTTPConnection
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.stores import MemoryStore
from trivium.stores import Store


class QuotaStep(RequestStep):
    """Refuse a client's request over `per_minute`; ask the store only when unsure."""

    def __init__(self, store: Store, per_minute: int) -> None:
        self.store = store
        self.per_minute = per_minute
        self.cheap: dict[str, float] = {}  # client -> until when it is surely under quota

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        client = connection.client.host if connection.client else "unknown"
        if self.cheap.get(client, 0.0) > time.monotonic():
            return None  # done: no coroutine made, nothing awaited
        return self._count(client)  # the route awaits it

    async def _count(self, client: str) -> None:
        count = await self.store.incr(f"quota:{client}", ttl=60)
        if count > self.per_minute:
            raise HTTPException(429, f"over the quota of {self.per_minute} requests a minute")
        if count < self.per_minute // 2:  # far under it: skip the store for a second
            self.cheap[client] = time.monotonic() + 1.0


class Quota(Plugin):
    """Give every route that takes the request a `QuotaStep`."""

    def __init__(self, store: Store, per_minute: int = 100) -> None:
        self.step = QuotaStep(store, per_minute)

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        return (self.step,) if route.takes_connection else ()


store = MemoryStore()
app = App(plugins=[Quota(store, per_minute=4)])


@app.get("/search")
async def search(request: Request, q: str = "") -> dict[str, str]:
    return {"q": q, "path": request.url.path}
