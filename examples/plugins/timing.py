"""`Timing`: an observer plugin that tells browsers how long the app took.

An `Observer` watches each request of a route without taking part in it: `start` runs
first (with a reader of the request headers), `finish` last, once the response exists.
No `Request` is built for it and nothing is awaited, so it costs next to nothing.
See docs/plugins.md, "Observers".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Sequence

from trivium import App
from trivium.http import Response
from trivium.plugins import Observer
from trivium.plugins import Plugin
from trivium.plugins import RouteNeeds


class ServerTiming(Observer):
    """Add a `Server-Timing` header with the time the app spent on the request."""

    def start(self, header: Callable[[str], str | None]) -> float:
        return time.perf_counter()

    def finish(self, started: float, response: Response) -> None:
        took = (time.perf_counter() - started) * 1000
        response.raw_headers.append((b"server-timing", b"app;dur=%.2f" % took))


class Timing(Plugin):
    """Time every HTTP route of the app."""

    def observers(self, route: RouteNeeds) -> Sequence[Observer]:
        return [ServerTiming()]


app = App(plugins=[Timing()])


@app.get("/")
async def index() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}
