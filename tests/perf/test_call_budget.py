"""Deterministic call-count budgets for the request hot path.

Wall-clock figures belong to bench/; here we count Python function calls made while
serving a simple GET, so that per-request introspection (signature inspection, type-hint
resolution, validator construction) cannot creep in unnoticed.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
from typing import Annotated

import anyio
import pytest

from trivium import App
from trivium import Query

pytestmark = pytest.mark.drives_no_app

BUDGET_PLAIN_GET = 40
BUDGET_VALIDATED_GET = 110


async def _drive(app: App, path: str, query: bytes = b"") -> tuple[int, list[str]]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(dict(scope), receive, send)  # warm-up: compiles the app
    sent.clear()
    # Garbage left by earlier tests would otherwise be collected inside the profiled
    # request, and its finalizers counted as the request's calls.
    gc.collect()
    gc.disable()
    try:
        profiler = cProfile.Profile()
        profiler.enable()
        await app(dict(scope), receive, send)
        profiler.disable()
    finally:
        gc.enable()
    stats = pstats.Stats(profiler)
    calls = sum(entry[1] for entry in stats.stats.values())  # type: ignore[attr-defined]
    names = [f"{k[0].rsplit('/', 1)[-1]}:{k[2]}" for k in stats.stats]  # type: ignore[attr-defined]
    assert sent[0]["status"] == 200
    return calls, names


def _app() -> App:
    app = App()

    @app.get("/plaintext")
    async def plaintext() -> str:
        return "Hello, World!"

    @app.get("/items/{item_id}")
    async def item(
        item_id: int, q: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 10
    ) -> dict:
        return {"id": item_id, "q": q, "limit": limit}

    return app


def test_plain_get_stays_within_call_budget() -> None:
    calls, names = anyio.run(_drive, _app(), "/plaintext")
    assert calls <= BUDGET_PLAIN_GET, names
    assert not any("signature" in n or "get_type_hints" in n or "TypeAdapter" in n for n in names)


def test_validated_get_stays_within_call_budget() -> None:
    calls, names = anyio.run(_drive, _app(), "/items/5", b"q=x&limit=3")
    assert calls <= BUDGET_VALIDATED_GET, names
    assert not any("signature" in n or "get_type_hints" in n or "TypeAdapter" in n for n in names)
