"""A stalled Redis costs one check per second its timeout, not every request."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import pytest
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium import App
from trivium.ratelimit import RateLimit
from trivium.ratelimit import RateLimits
from trivium.ratelimit._plugin import PROBE_EVERY
from trivium.stores import RedisStore
from trivium.testing import TestClient

TIMEOUT = 0.5


@pytest.fixture
def proxy(redis_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(redis_url) as running:
        yield running


def _app(store: RedisStore, fail_open: bool) -> App:
    app = App(plugins=[RateLimits(store, fail_open=fail_open)])

    @app.get("/limited", rate_limit=RateLimit("100/hour", key=lambda request: "client"))
    async def limited() -> str:
        return "limited"

    return app


def _timed(client: TestClient) -> tuple[int, float]:
    start = time.monotonic()
    answer = client.get("/limited")
    return answer.status_code, time.monotonic() - start


@pytest.mark.parametrize(("fail_open", "status"), [(True, 200), (False, 503)])
def test_during_a_stall_only_the_probe_waits_and_the_limit_comes_back(
    proxy: FaultProxy, fail_open: bool, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore(proxy.url, prefix=f"rl-test-{uuid.uuid4().hex[:8]}:", timeout=TIMEOUT)
    with caplog.at_level(logging.WARNING, "trivium.ratelimit"):
        with TestClient(_app(store, fail_open)) as client:
            assert client.get("/limited").headers["ratelimit-remaining"] == "99"
            proxy.stall()
            first, waited = _timed(client)
            assert first == status
            assert waited >= TIMEOUT * 0.9  # the first check meets the stall
            later = [_timed(client) for _ in range(5)]
            assert [code for code, _ in later] == [status] * 5
            assert max(seconds for _, seconds in later) < TIMEOUT / 2  # no more waiting
            time.sleep(PROBE_EVERY + 0.1)
            probe, waited = _timed(client)  # one check a second tries Redis again
            assert (probe, waited >= TIMEOUT * 0.9) == (status, True)
            proxy.restore()
            time.sleep(PROBE_EVERY + 0.1)
            answer = client.get("/limited")
            assert answer.status_code == 200
            assert int(answer.headers["ratelimit-remaining"]) in range(96, 99)
            assert client.get("/limited").status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "trivium.ratelimit"]
    assert len(messages) == 2
    assert "unreachable" in messages[0]
    assert "available again" in messages[1]
