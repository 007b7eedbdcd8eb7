"""A stalled store costs a request one wait at most; key functions must name keys."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium import App
from trivium.cache import Cache
from trivium.cache import CacheRule
from trivium.stores import RedisStore
from trivium.testing import TestClient

TIMEOUT = 1.5  # the store's wait for each answer: longer than PROBE_EVERY (1 s)


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    url = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("needs TRIVIUM_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    with fault_proxy(url) as running:
        yield running


def test_a_stalled_redis_costs_a_request_one_timeout_at_most(proxy: FaultProxy) -> None:
    store = RedisStore(proxy.url, prefix="test-cache-review:", timeout=TIMEOUT)
    cache = Cache(store)
    app = App(plugins=[cache])

    @app.get("/page", cache=CacheRule(60))
    async def page() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/value")
    async def value() -> dict[str, int]:
        async def compute() -> int:
            return 1

        return {"value": await cache.get_or_set("k", compute)}

    proxy.stall()
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ["/page", "/value", "/page", "/value"]:
            started = time.monotonic()
            answer = client.get(path)
            took = time.monotonic() - started
            assert answer.status_code == 200
            # Several store calls per request: only one waits out the timeout.
            assert took < TIMEOUT * 1.6, (path, took)
        proxy.restore()


async def test_a_key_function_returning_no_string_is_named_in_a_type_error() -> None:
    cache = Cache()

    def by_number(item_id: int) -> int:
        return item_id

    @cache.cached(key=by_number)  # type: ignore[arg-type]
    async def item(item_id: int) -> int:
        return item_id

    with pytest.raises(
        TypeError, match=r"key='.*by_number'\) on .*item: the key function returned int 3"
    ):
        await item(3)


pytestmark = pytest.mark.anyio
