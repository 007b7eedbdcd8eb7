"""A Redis outage through a real TCP proxy: 503 with Retry-After, anonymous pages unaffected."""

import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from collections.abc import Iterator

import pytest
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium import App
from trivium import Request
from trivium.errors import ConfigurationError
from trivium.sessions import SessionMiddleware
from trivium.stores import RedisStore
from trivium.testing import TestClient


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    url = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("Redis outage tests need TRIVIUM_TEST_REDIS_URL")
    with fault_proxy(url) as running:
        yield running


def make_app(store: RedisStore) -> App:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        yield
        await store.close()  # in the loop that opened its connections

    app = App(lifespan=lifespan)
    app.add_middleware(SessionMiddleware, secret_key="k" * 40, store=store)

    @app.post("/visits")
    async def visit(request: Request) -> int:
        request.session["visits"] = request.session.get("visits", 0) + 1
        return int(request.session["visits"])

    @app.get("/public")
    async def public() -> str:
        return "no session needed"

    return app


def store_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "trivium.stores"]


def test_redis_down_answers_503_and_anonymous_pages_keep_working(
    proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore(proxy.url, prefix=f"outage-{uuid.uuid4().hex[:8]}:")
    with TestClient(make_app(store)) as client:
        assert client.post("/visits").json() == 1
        proxy.cut()
        for _ in range(3):
            response = client.post("/visits")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert response.json() == {"detail": "the Redis store is unreachable"}
        anonymous = RedisStore(proxy.url, prefix=store.prefix)
        with TestClient(make_app(anonymous)) as visitor:  # no session cookie
            assert visitor.get("/public").json() == "no session needed"
        assert len(store_records(caplog)) == 1
        assert not [r for r in caplog.records if r.exc_info]
        proxy.restore()
        assert client.post("/visits").json() == 2  # the session survived the outage
    assert "available again" in store_records(caplog)[-1].getMessage()


def test_a_stalled_redis_answers_503_within_the_store_timeout(proxy: FaultProxy) -> None:
    store = RedisStore(proxy.url, prefix=f"outage-{uuid.uuid4().hex[:8]}:", timeout=1.0)
    with TestClient(make_app(store)) as client:
        assert client.post("/visits").json() == 1
        proxy.stall()
        started = time.monotonic()
        assert client.post("/visits").status_code == 503
        # Once the timeout, not twice: a timeout is not retried (a dropped connection is).
        assert time.monotonic() - started < 1.8
        proxy.restore()


def test_a_stalled_redis_costs_the_cache_one_timeout_per_second_not_per_call(
    proxy: FaultProxy,
) -> None:
    """Reads miss and writes are skipped at once while a call per second probes the store."""
    from trivium.cache import Cache
    from trivium.cache import CacheRule

    store = RedisStore(proxy.url, prefix=f"outage-{uuid.uuid4().hex[:8]}:", timeout=0.5)
    cache = Cache(store)

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        yield
        await store.close()

    app = App(plugins=[cache], lifespan=lifespan)
    computed: list[str] = []

    @cache.cached(ttl=60)
    async def price(item: str) -> int:
        computed.append(item)
        return len(item)

    @app.get("/price/{item}")
    async def read_price(item: str) -> int:
        return await price(item)

    @app.get("/page", cache=CacheRule(60))
    async def page() -> str:
        return "a page"

    with TestClient(app) as client:
        assert client.get("/price/lamp").json() == 4
        proxy.stall()
        started = time.monotonic()
        assert client.get("/price/desk").json() == 4  # the probe: one timeout at most
        first = time.monotonic() - started
        assert first < 1.4  # it was about 4 store calls of 2 timeouts each
        started = time.monotonic()
        for item in ("chair", "shelf", "lamp"):
            assert client.get(f"/price/{item}").json() == len(item)
        assert client.get("/page").text == '"a page"'
        assert time.monotonic() - started < 0.5  # skipped while the probe waited
        proxy.restore()
        time.sleep(1.1)  # past the probe interval: the next call finds the store again
        assert client.get("/price/lamp").json() == 4
    assert computed[:2] == ["lamp", "desk"]


def test_store_timeout_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="timeout=0 is not a number of seconds"):
        RedisStore("redis://127.0.0.1:6379/0", timeout=0)
