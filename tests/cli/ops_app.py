"""A trivium app for the serving tests: metrics, request IDs, a slow route, logs."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

import anyio

from trivium import App
from trivium import Request
from trivium.observability import Observability
from trivium.responses import EventSourceResponse

app = App(plugins=[Observability(metrics=True)])
log = logging.getLogger("ops_app")


@app.get("/")
async def index(request: Request) -> dict[str, object]:
    log.warning("served index")
    return {"pid": os.getpid(), "root_path": request.scope.get("root_path", "")}


@app.get("/slow")
async def slow(seconds: float = 1.0) -> dict[str, float]:
    await anyio.sleep(seconds)
    return {"slept": seconds}


@app.get("/events")
async def events() -> EventSourceResponse:
    async def forever() -> AsyncIterator[dict[str, int]]:
        count = 0
        while True:  # endless: the client or the server ends it
            count += 1
            yield {"data": count}
            await anyio.sleep(0.2)

    return EventSourceResponse(forever())
