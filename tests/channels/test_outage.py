"""A Redis outage through a real TCP proxy: publishers get a 503, subscribers a resync."""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator

import anyio
import pytest
from tests.channels.conftest import drop_keys
from tests.channels.conftest import new_prefix
from tests.channels.conftest import redis_url
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium.channels import Channels
from trivium.channels import ChannelsUnavailableError
from trivium.channels import RedisBackend


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with fault_proxy(redis_url()) as running:
        yield running


async def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 - `ready` is a flag, polled
            await anyio.sleep(0.02)


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ["cut", "reset", "stall"])
async def test_the_listener_reconnects_and_subscribers_get_a_resync(
    proxy: FaultProxy, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = new_prefix()
    backend = RedisBackend(proxy.url, prefix=prefix, timeout=0.5, health_interval=0.2)
    channels = Channels(backend)
    try:
        async with channels.running(), channels.subscribe("news") as subscription:
            await wait_until(lambda: channels.ready)
            await channels.publish("news", "before")
            assert (await subscription.get()).data == "before"
            getattr(proxy, fault)()
            if fault != "reset":
                with pytest.raises(ChannelsUnavailableError, match="unreachable"):
                    await channels.publish("news", "lost")
            await wait_until(lambda: not channels.ready)
            proxy.restore()
            await wait_until(lambda: channels.ready)
            with anyio.fail_after(5):
                resync = await subscription.get()
            assert (resync.kind, resync.dropped) == ("resync", None)
            await channels.publish("news", "after")
            with anyio.fail_after(5):
                assert (await subscription.get()).data == "after"
    finally:
        drop_keys(redis_url(), prefix)
    messages = [r.getMessage() for r in caplog.records if r.name == "trivium.channels"]
    assert any("lost Redis" in m for m in messages)
    assert any("reachable again" in m for m in messages)


def test_publishing_while_redis_is_down_is_a_503(proxy: FaultProxy) -> None:
    from tests.channels.chatapp import make_app

    from trivium.testing import TestClient

    prefix = new_prefix()
    backend = RedisBackend(proxy.url, prefix=prefix, timeout=0.5)
    try:
        with TestClient(make_app(backend)) as client:
            proxy.cut()
            response = client.post("/rooms/1", json={"n": 1})
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert response.json() == {"detail": "the channels backend (Redis) is unreachable"}
            proxy.restore()
            assert client.post("/rooms/1", json={"n": 2}).status_code == 200
    finally:
        drop_keys(redis_url(), prefix)


def test_readyz_fails_while_the_listener_is_down(proxy: FaultProxy) -> None:
    from trivium import App
    from trivium.observability import Observability
    from trivium.testing import TestClient

    prefix = new_prefix()
    channels = Channels(RedisBackend(proxy.url, prefix=prefix, timeout=0.5, health_interval=0.2))
    app = App(plugins=[channels, Observability(checks={"channels": channels.check})])
    try:
        with TestClient(app) as client:
            deadline = time.monotonic() + 10
            while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert client.get("/readyz").json()["checks"]["channels"] == "ok"
            proxy.cut()
            while client.get("/readyz").status_code != 503 and time.monotonic() < deadline:
                time.sleep(0.02)
            down = client.get("/readyz")
            assert down.status_code == 503
            assert "unreachable" in down.json()["checks"]["channels"]
            proxy.restore()
            while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert client.get("/readyz").status_code == 200
    finally:
        drop_keys(redis_url(), prefix)
