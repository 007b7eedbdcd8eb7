"""Streams that fail before their first chunk, and producers that never suspend.

Served by a real Granian (RSGI, ASGI) or uvicorn process for `test_live_stream_errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import BaseModel

from trivium import App
from trivium import HTTPException
from trivium.responses import StreamingResponse

app = App()
produced: dict[str, int] = {}
"""Chunks produced per stream name."""
closed: dict[str, bool] = {}
"""Whether the producer of a stream name was closed (its `finally` ran)."""


class Item(BaseModel):
    n: int


ITEMS: dict[int, Item] = {}
"""No items: every one asked for is missing."""


async def _failing(error: Exception | None) -> AsyncIterator[bytes]:
    """Raise `error` before the first chunk (with `None`, end without one)."""
    if error is not None:
        raise error
    chunks: list[bytes] = []
    for chunk in chunks:
        yield chunk


@app.get("/plaintext")
async def plaintext() -> str:
    return "hello"


@app.get("/missing")
async def missing(n: int = 1) -> AsyncIterator[Item]:
    item = ITEMS.get(n)
    if item is None:
        raise HTTPException(404, "no such item")
    yield item


@app.get("/broken")
async def broken() -> StreamingResponse:
    return StreamingResponse(_failing(RuntimeError("the producer failed")))


@app.get("/busy/{name}")
async def busy(name: str) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        produced[name] = 0
        closed[name] = False
        try:
            while produced[name] < 20_000:  # 1.3 GB: more than a client that left reads
                produced[name] += 1
                yield b"x" * 65536
        finally:
            closed[name] = True

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@app.get("/stats/{name}")
async def stats(name: str) -> dict[str, object]:
    return {"produced": produced.get(name), "closed": closed.get(name)}
