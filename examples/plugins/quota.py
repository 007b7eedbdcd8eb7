"""A request step whose `before` is a plain function: it waits only when it must.

Every admitted request is counted in a `Store` (an awaitable handed back to the route).
A client the store has just found over its quota is refused at once for a second,
without a coroutine or a store round trip: a flood costs the store nothing.
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
    """Refuse a client's requests over `per_minute` (a fixed one-minute window)."""

    def __init__(self, store: Store, per_minute: int) -> None:
        self.store = store
        self.per_minute = per_minute
        self.refused: dict[str, float] = {}  # client -> until when it is surely over quota

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        client = connection.client.host if connection.client else "unknown"
        if self.refused.get(client, 0.0) > time.monotonic():
            raise self.over()  # refused at once: no coroutine, no store round trip
        return self._count(client)  # the route awaits it

    async def _count(self, client: str) -> None:
        count = await self.store.incr(f"quota:{client}", ttl=60)
        if count > self.per_minute:
            # Over it for the rest of the window: refuse the next second's requests here.
            self.refused[client] = time.monotonic() + 1.0
            raise self.over()

    def over(self) -> HTTPException:
        return HTTPException(429, f"over the quota of {self.per_minute} requests a minute")


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
