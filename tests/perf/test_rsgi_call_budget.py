"""Deterministic call-count budgets for the RSGI hot path (Granian's native interface).

Counts Python function calls made while `app.__rsgi__` serves one request, driven with
a minimal RSGI scope and protocol, so that work creeping back into the per-request path
(building objects a handler does not use, wrapper layers, re-inspection) shows up as a
failing number rather than as a slower benchmark weeks later.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
from typing import Annotated
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from trivium import App
from trivium import Query
from trivium.responses import PlainTextResponse

pytestmark = pytest.mark.drives_no_app

BUDGET_PLAINTEXT = 24
BUDGET_JSON = 26
BUDGET_VALIDATED_GET = 64
BUDGET_MODEL_POST = 52


class Item(BaseModel):
    name: str
    price: float


class _Headers(dict[str, str]):
    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(super().items())

    def get_all(self, key: str) -> list[str]:
        return [self[key]] if key in self else []


class _Scope:
    proto = "http"
    http_version = "1.1"
    rsgi_version = "1.5"
    server = "127.0.0.1:8000"
    client = "127.0.0.1:5000"
    scheme = "http"
    authority = None

    def __init__(self, method: str, path: str, query: str, headers: dict[str, str]) -> None:
        self.method = method
        self.path = path
        self.query_string = query
        self.headers = _Headers({"host": "127.0.0.1:8000", **headers})


class _Protocol:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.status = 0
        self.sent = b""

    async def __call__(self) -> bytes:
        return self.body

    def __aiter__(self) -> Any:
        return self._chunks()

    async def _chunks(self) -> Any:
        if self.body:
            yield self.body

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.sent = status, body

    def response_str(self, status: int, headers: list[tuple[str, str]], body: str) -> None:
        self.status, self.sent = status, body.encode()

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.status = status


def _app() -> App:
    app = App()

    @app.get("/plaintext")
    async def plaintext() -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    @app.get("/json")
    async def json_message() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/items/{item_id}")
    async def read_item(
        item_id: int, q: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 10
    ) -> dict[str, int | str | None]:
        return {"id": item_id, "q": q, "limit": limit}

    @app.post("/items")
    async def create_item(item: Item) -> Item:
        return item

    return app


async def _count(
    method: str, path: str, query: str = "", body: bytes = b""
) -> tuple[int, _Protocol, list[str]]:
    app = _app()
    headers = {"content-type": "application/json", "content-length": str(len(body))}
    if not body:
        headers = {}
    await app.__rsgi__(_Scope(method, path, query, headers), _Protocol(body))  # warm-up
    protocol = _Protocol(body)
    scope = _Scope(method, path, query, headers)
    # Garbage left by earlier tests would otherwise be collected inside the profiled
    # request, and its finalizers counted as the request's calls.
    gc.collect()
    gc.disable()
    try:
        profiler = cProfile.Profile()
        profiler.enable()
        await app.__rsgi__(scope, protocol)
        profiler.disable()
    finally:
        gc.enable()
    stats: Any = pstats.Stats(profiler)
    calls = sum(entry[1] for entry in stats.stats.values())
    names = [f"{k[0].rsplit('/', 1)[-1]}:{k[2]}" for k in stats.stats]
    return calls, protocol, names


def test_plaintext_stays_within_call_budget() -> None:
    calls, protocol, names = anyio.run(_count, "GET", "/plaintext")
    assert (protocol.status, protocol.sent) == (200, b"Hello, World!")
    assert calls <= BUDGET_PLAINTEXT, names


def test_parameterless_handler_builds_no_request_object() -> None:
    _, _, names = anyio.run(_count, "GET", "/json")
    assert not any(name.endswith(":__init__") and "_request.py" in name for name in names)


def test_json_stays_within_call_budget() -> None:
    calls, protocol, names = anyio.run(_count, "GET", "/json")
    assert (protocol.status, protocol.sent) == (200, b'{"message":"Hello, World!"}')
    assert calls <= BUDGET_JSON, names


def test_validated_get_stays_within_call_budget() -> None:
    calls, protocol, names = anyio.run(_count, "GET", "/items/42", "q=hello&limit=5")
    assert (protocol.status, protocol.sent) == (200, b'{"id":42,"q":"hello","limit":5}')
    assert calls <= BUDGET_VALIDATED_GET, names
    assert not any("signature" in n or "get_type_hints" in n for n in names)
    # pydantic-core is called directly, not through TypeAdapter's Python-level wrappers.
    assert not any(n.startswith("type_adapter.py") for n in names)


def test_model_post_stays_within_call_budget() -> None:
    body = b'{"name":"x","price":1.5}'
    calls, protocol, names = anyio.run(_count, "POST", "/items", "", body)
    assert (protocol.status, protocol.sent) == (200, b'{"name":"x","price":1.5}')
    assert calls <= BUDGET_MODEL_POST, names
