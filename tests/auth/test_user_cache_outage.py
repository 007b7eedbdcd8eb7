"""The user cache's Redis listener logs an outage once, without a traceback, and its end."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest
from redis.asyncio import Redis
from tests.faults import fault_proxy

from trivium.auth._user_cache import UserCache

pytestmark = pytest.mark.drives_no_app

REDIS = os.environ.get("TRIVIUM_TEST_REDIS_URL")


def _records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "trivium.auth" and text in r.getMessage()]


@pytest.mark.skipif(REDIS is None, reason="needs TRIVIUM_TEST_REDIS_URL")
def test_an_outage_is_one_line_and_its_end_another(caplog: pytest.LogCaptureFixture) -> None:
    assert REDIS is not None
    with fault_proxy(REDIS) as proxy:
        proxy.cut()

        async def run() -> None:
            cache = UserCache(60, "auth_user", "trivium-test:auth:users")
            client = Redis.from_url(proxy.url, socket_connect_timeout=1)
            cache.publish_with(client)
            try:
                async with cache.listening():
                    await asyncio.sleep(3.5)  # three retries, one second apart
                    assert not cache.live
                    proxy.restore()
                    for _ in range(50):
                        await asyncio.sleep(0.1)
                        if cache.live:
                            break
                    assert cache.live
            finally:
                await client.aclose()

        with caplog.at_level(logging.WARNING, logger="trivium.auth"):
            asyncio.run(run())
    off = _records(caplog, "user cache off")
    assert len(off) == 1
    assert off[0].exc_info is None
    assert len(_records(caplog, "user cache on again")) == 1
