"""Redis down or slow: fail open (logged) or closed (503), and never a blocked event loop."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from collections.abc import Iterator

import anyio
import pytest
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium import App
from trivium import Request
from trivium.ratelimit import RateLimit
from trivium.ratelimit import RateLimits
from trivium.stores import RedisStore
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient

DOWN_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def proxy(redis_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(redis_url) as running:
        yield running


def _app(limits: RateLimits) -> App:
    app = App(plugins=[limits])

    @app.get("/limited", rate_limit=RateLimit("5/hour"))
    async def limited() -> str:
        return "limited"

    return app


def test_redis_down_fails_open_with_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    app = _app(RateLimits(DOWN_URL))
    with caplog.at_level(logging.ERROR, "trivium.ratelimit"), TestClient(app) as client:
        answers = [client.get("/limited") for _ in range(7)]
    assert [answer.status_code for answer in answers] == [200] * 7
    assert "ratelimit-limit" not in answers[0].headers
    records = [r for r in caplog.records if r.name == "trivium.ratelimit"]
    assert len(records) == 1
    assert "letting requests through unlimited" in records[0].getMessage()


def test_redis_down_fails_closed_with_503_when_asked() -> None:
    app = _app(RateLimits(DOWN_URL, fail_open=False))
    with TestClient(app) as client:
        answer = client.get("/limited")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"


@pytest.mark.anyio
async def test_a_slow_redis_holds_only_the_limited_request(proxy: FaultProxy) -> None:
    # Redis answers only when the test lets it (`restore`): the limited request waits for
    # it while unlimited requests on the same event loop are served.
    store = RedisStore(proxy.url, prefix=f"rl-test-{uuid.uuid4().hex[:8]}:", timeout=30)
    reached = anyio.Event()

    def key(request: Request) -> str:
        reached.set()  # the Redis call follows, with no await in between
        return "client"

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        yield
        await store.close()

    app = App(plugins=[RateLimits(store)], lifespan=lifespan)

    @app.get("/limited", rate_limit=RateLimit("5/hour", key=key))
    async def limited() -> str:
        return "limited"

    @app.get("/free")
    async def free() -> str:
        return "free"

    async with AsyncTestClient(app) as client, anyio.create_task_group() as group:
        assert (await client.get("/limited")).status_code == 200  # connected, script loaded
        reached = anyio.Event()
        proxy.stall()
        done: list[int] = []

        async def slow() -> None:
            done.append((await client.get("/limited")).status_code)

        group.start_soon(slow)
        await reached.wait()
        for _ in range(3):
            assert (await client.get("/free")).text == '"free"'
        assert done == []  # still waiting for Redis
        proxy.restore()
    assert done == [200]
