"""Redis down or slow: fail open (logged) or closed (503), and never a blocked event loop."""

from __future__ import annotations

import contextlib
import logging
import time
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
from trivium.ratelimit._plugin import PROBE_EVERY
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


def _counting_app(store: RedisStore, fail_open: bool) -> App:
    app = App(plugins=[RateLimits(store, fail_open=fail_open)])

    @app.get("/limited", rate_limit=RateLimit("100/hour", key=lambda request: "client"))
    async def limited() -> str:
        return "limited"

    return app


def test_a_dropped_connection_is_one_outage_then_the_limit_counts_on(proxy: FaultProxy) -> None:
    store = RedisStore(proxy.url, prefix=f"rl-test-{uuid.uuid4().hex[:8]}:")
    with TestClient(_counting_app(store, fail_open=False)) as client:
        first = client.get("/limited")
        assert first.headers["ratelimit-remaining"] == "99"
        proxy.reset()  # Redis restarts: the worker's connection is closed under it
        answers = [client.get("/limited") for _ in range(3)]
        # At most the request that met the broken connection is refused; the next ones
        # reconnect and are counted where the first left off.
        assert [a.status_code for a in answers].count(503) <= 1
        counted = [a.headers["ratelimit-remaining"] for a in answers if a.status_code == 200]
        assert counted[-1] == "96" if len(counted) == 3 else counted[-1] == "97"


def test_a_reply_later_than_the_timeout_never_answers_another_request(
    proxy: FaultProxy,
) -> None:
    # After a timed-out batch the connection is dropped, so the late reply can't be taken
    # for the next request's (it would carry another key's count).
    store = RedisStore(proxy.url, prefix=f"rl-test-{uuid.uuid4().hex[:8]}:", timeout=0.3)
    with TestClient(_counting_app(store, fail_open=False)) as client:
        assert client.get("/limited").headers["ratelimit-remaining"] == "99"
        proxy.stall()
        assert client.get("/limited").status_code == 503
        proxy.restore()
        time.sleep(PROBE_EVERY + 0.1)  # within a second of a failure, checks skip Redis
        later = [client.get("/limited") for _ in range(2)]
    assert [a.status_code for a in later] == [200, 200]
    remaining = [int(a.headers["ratelimit-remaining"]) for a in later]
    assert remaining[0] - remaining[1] == 1
    assert remaining[1] in (96, 97)  # the stalled check may or may not have reached Redis


def test_a_refused_password_is_an_outage(redis_url: str) -> None:
    # This Redis has no password: AUTH fails, which is the same as Redis being unreachable.
    parts = redis_url.split("://", 1)
    store = RedisStore(f"{parts[0]}://:wrong-password@{parts[1]}", prefix="rl-test-auth:")
    with TestClient(_counting_app(store, fail_open=False)) as client:
        answer = client.get("/limited")
    assert answer.status_code == 503
    assert answer.json()["detail"] == "the rate limit store is unreachable"


def test_counters_land_in_the_url_s_database(redis_url: str) -> None:
    import redis

    base = redis_url.rsplit("/", 1)[0]
    prefix = f"rl-test-{uuid.uuid4().hex[:8]}:"
    store = RedisStore(f"{base}/7", prefix=prefix)
    with TestClient(_counting_app(store, fail_open=False)) as client:
        assert client.get("/limited").status_code == 200
    check = redis.Redis.from_url(f"{base}/7")
    try:
        assert check.keys(f"{prefix}*")
    finally:
        check.delete(*check.keys(f"{prefix}*"))
        check.close()


def test_a_client_with_its_own_connection_class_counts_through_redis_py(redis_url: str) -> None:
    # Settings the pipelined channel can't follow (TLS, a connection class of the user's)
    # keep redis-py's own pipeline: same counts, same headers.
    from redis.asyncio import ConnectionPool
    from redis.asyncio import Redis
    from redis.asyncio.connection import Connection

    class Traced(Connection):
        pass

    redis = Redis(connection_pool=ConnectionPool.from_url(redis_url, connection_class=Traced))
    store = RedisStore(redis, prefix=f"rl-test-{uuid.uuid4().hex[:8]}:")
    app = _counting_app(store, fail_open=False)

    @app.on_event("shutdown")
    async def close() -> None:
        await redis.aclose(close_connection_pool=True)

    with TestClient(app) as client:
        remaining = [client.get("/limited").headers["ratelimit-remaining"] for _ in range(3)]
    assert remaining == ["99", "98", "97"]
