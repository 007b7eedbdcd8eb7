"""A Redis stall through a real TCP proxy: the listener recovers, publishers fail in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from collections.abc import Iterator

import anyio
import pytest
from tests.channels.conftest import drop_keys
from tests.channels.conftest import new_prefix
from tests.channels.conftest import redis_url
from tests.faults import STALLED
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium.channels import Channels
from trivium.channels import ChannelsUnavailableError
from trivium.channels import RedisBackend

pytestmark = pytest.mark.drives_no_app


class BlackHoleProxy(FaultProxy):
    """A `FaultProxy` whose connections accepted during a stall never pass a byte.

    Like a dead host behind a load balancer that still completes the TCP handshake:
    restoring the proxy helps new connections only.
    """

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._mode == STALLED:
            self._writers.add(writer)
            await asyncio.Event().wait()  # until `stop()` cancels it
        await super()._serve(reader, writer)


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with fault_proxy(redis_url()) as running:
        yield running


@pytest.fixture
def black_hole() -> Iterator[FaultProxy]:
    running = BlackHoleProxy(redis_url())
    running.start()
    try:
        yield running
    finally:
        running.stop()


async def wait_until(condition: Callable[[], bool], seconds: float) -> None:
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 - `ready` is a flag, polled
            await anyio.sleep(0.02)


@pytest.mark.anyio
async def test_the_listener_recovers_after_a_stall_longer_than_its_timeout(
    black_hole: FaultProxy,
) -> None:
    proxy = black_hole
    prefix = new_prefix()
    backend = RedisBackend(proxy.url, prefix=prefix, timeout=0.5, health_interval=0.5)
    channels = Channels(backend)
    try:
        async with channels.running(), channels.subscribe("news") as subscription:
            await wait_until(lambda: channels.ready, 5)
            await channels.publish("news", "before")
            assert (await subscription.get()).data == "before"
            proxy.stall()
            await wait_until(lambda: not channels.ready, 5)
            await anyio.sleep(3)  # reconnection attempts meet the stall too
            proxy.restore()
            await wait_until(lambda: channels.ready, 5)
            with anyio.fail_after(5):
                resync = await subscription.get()
            assert resync.kind == "resync"
            await channels.publish("news", "after")
            with anyio.fail_after(5):
                assert (await subscription.get()).data == "after"
    finally:
        drop_keys(redis_url(), prefix)


@pytest.mark.anyio
@pytest.mark.parametrize("keep", [0, 10])
async def test_a_publish_during_a_stall_fails_within_the_timeout(
    proxy: FaultProxy, keep: int
) -> None:
    prefix = new_prefix()
    channels = Channels(RedisBackend(proxy.url, prefix=prefix, timeout=0.5, health_interval=5))
    try:
        async with channels.running():
            await wait_until(lambda: channels.ready, 5)
            await channels.backend.publish("news", "message", b'"warm"', keep)
            proxy.stall()
            started = time.monotonic()
            with pytest.raises(ChannelsUnavailableError, match="unreachable"):
                await channels.backend.publish("news", "message", b'"lost"', keep)
            assert time.monotonic() - started < 0.9
            proxy.restore()
    finally:
        drop_keys(redis_url(), prefix)


@pytest.mark.anyio
async def test_a_publish_after_a_reset_is_retried_on_a_new_connection(proxy: FaultProxy) -> None:
    prefix = new_prefix()
    channels = Channels(RedisBackend(proxy.url, prefix=prefix, timeout=0.5, health_interval=5))
    try:
        async with channels.running():
            await wait_until(lambda: channels.ready, 5)
            await channels.publish("news", "warm")
            proxy.reset()
            await channels.publish("news", "after the reset")
    finally:
        drop_keys(redis_url(), prefix)
