"""Endless streams served by a real Granian process: how many chunks run after a client leaves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from trivium import App
from trivium.responses import EventSourceResponse
from trivium.responses import StreamingResponse

app = App()
produced: dict[str, int] = {}
"""Chunks produced per stream name."""
closed: dict[str, bool] = {}
"""Whether the producer of a stream name was closed (its `finally` ran)."""


async def _produce(name: str, interval: float) -> AsyncIterator[str]:
    produced[name] = 0
    closed[name] = False
    try:
        while True:
            produced[name] += 1
            yield f"{produced[name]}\n"
            await anyio.sleep(interval)
    finally:
        closed[name] = True


@app.get("/plaintext")
async def plaintext() -> str:
    return "hello"


@app.get("/chunks/{name}")
async def chunks(name: str, interval: float = 0.05) -> StreamingResponse:
    return StreamingResponse(_produce(name, interval), media_type="text/plain")


@app.get("/events/{name}")
async def events(name: str, interval: float = 0.05) -> EventSourceResponse:
    return EventSourceResponse(_produce(name, interval), ping=60)


@app.get("/lines/{name}")
async def lines(name: str, interval: float = 0.05) -> AsyncIterator[dict[str, int]]:
    produced[name] = 0
    closed[name] = False
    try:
        while True:
            produced[name] += 1
            yield {"n": produced[name]}
            await anyio.sleep(interval)
    finally:
        closed[name] = True


@app.get("/stats/{name}")
async def stats(name: str) -> dict[str, object]:
    return {"produced": produced.get(name), "closed": closed.get(name)}
