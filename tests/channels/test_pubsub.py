"""Publish and subscribe through `Channels`, in memory and on Redis."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest
from pydantic import BaseModel

from trivium.channels import Backend
from trivium.channels import Channels
from trivium.channels import Event
from trivium.channels import MemoryBackend
from trivium.channels import Subscription

pytestmark = pytest.mark.drives_no_app


class Todo(BaseModel):
    title: str
    done: bool = False


async def next_event(subscription: Subscription) -> Event:
    with anyio.fail_after(5):
        return await subscription.get()


@pytest.mark.anyio
async def test_subscribers_receive_what_is_published(make_backend: Callable[[], Backend]) -> None:
    channels = Channels(make_backend())
    async with channels.running():
        async with channels.subscribe("todos") as first, channels.subscribe("todos") as second:
            assert await channels.publish("todos", {"title": "milk"}) is None
            await channels.publish("todos", Todo(title="bread"))
            for subscription in (first, second):
                events = [await next_event(subscription), await next_event(subscription)]
                assert [e.data for e in events] == [
                    {"title": "milk"},
                    {"title": "bread", "done": False},
                ]
                assert {(e.kind, e.channel, e.id) for e in events} == {("message", "todos", None)}


@pytest.mark.anyio
async def test_a_subscription_only_gets_its_channels(make_backend: Callable[[], Backend]) -> None:
    channels = Channels(make_backend())
    async with channels.running(), channels.subscribe("a") as subscription:
        await channels.publish("b", 1)
        await subscription.subscribe("b")
        await channels.publish("a", 2)
        await channels.publish("b", 3)
        await subscription.unsubscribe("a")
        await channels.publish("a", 4)
        await channels.publish("b", 5)
        got = [(e.channel, e.data) for e in [await next_event(subscription) for _ in range(3)]]
        assert sorted(got) == [("a", 2), ("b", 3), ("b", 5)]
        assert subscription.pending == 0


@pytest.mark.anyio
async def test_processes_sharing_a_backend_reach_each_other(
    make_backend: Callable[[], Backend],
) -> None:
    """Two `Channels` on one Redis prefix stand for two worker processes."""
    backend = make_backend()
    if not hasattr(backend, "prefix"):
        pytest.skip("in memory, a backend serves one process")
    one, two = Channels(backend), Channels(make_backend())
    async with one.running(), two.running():
        async with one.subscribe("news") as here, two.subscribe("news") as there:
            await one.publish("news", "from one")
            await two.publish("news", "from two")
            for subscription in (here, there):
                got = {(await next_event(subscription)).data for _ in range(2)}
                assert got == {"from one", "from two"}


@pytest.mark.anyio
async def test_a_subscription_made_while_the_listener_connects_misses_nothing(
    make_backend: Callable[[], Backend],
) -> None:
    backend = make_backend()
    if not hasattr(backend, "prefix"):
        pytest.skip("in memory, there is no listener to wait for")
    connect = backend._connect  # type: ignore[attr-defined]

    async def slow_connect(pubsub: object) -> None:
        await anyio.sleep(0.3)  # a loaded machine: the first connection takes a while
        await connect(pubsub)

    backend._connect = slow_connect  # type: ignore[attr-defined]
    one, two = Channels(backend), Channels(make_backend())
    async with two.running(), one.running(), one.subscribe("news") as here:
        await two.publish("news", "first")
        with anyio.fail_after(5):
            assert (await next_event(here)).data == "first"


@pytest.mark.anyio
async def test_a_slow_subscriber_gets_a_resync_with_the_count_dropped(
    make_backend: Callable[[], Backend],
) -> None:
    channels = Channels(make_backend(), queue_limit=3)
    async with channels.running(), channels.subscribe("feed") as slow:
        async with channels.subscribe("feed", limit=100) as fast:
            for n in range(10):
                await channels.publish("feed", n)
            assert [(await next_event(fast)).data for _ in range(10)] == list(range(10))
        assert slow.pending == 3
        events = [await next_event(slow) for _ in range(4)]
        assert [e.data for e in events[:3]] == [0, 1, 2]
        assert (events[3].kind, events[3].dropped, events[3].data) == ("resync", 7, {"dropped": 7})
        await channels.publish("feed", "after")
        assert (await next_event(slow)).data == "after"


@pytest.mark.anyio
async def test_channels_keep_history_and_give_stream_ids(
    make_backend: Callable[[], Backend],
) -> None:
    channels = Channels(make_backend(), history={"log:*": 5})
    async with channels.running(), channels.subscribe("log:app") as subscription:
        ids = [await channels.publish("log:app", n) for n in range(8)]
        assert all(isinstance(i, str) for i in ids)
        live = [await next_event(subscription) for _ in range(8)]
        assert [e.id for e in live] == ids
        assert await channels.publish("other", 1) is None
        missed = await channels.history_after("log:app", ids[4], 10)
        assert [(e.id, e.data) for e in missed] == [(ids[5], 5), (ids[6], 6), (ids[7], 7)]


@pytest.mark.anyio
async def test_invalid_channel_names_are_refused() -> None:
    channels = Channels()
    for name in ("", "has space", "x" * 201, "tab\t"):
        with pytest.raises(ValueError, match="channel names are 1-200 printable"):
            await channels.publish(name, 1)


@pytest.mark.anyio
async def test_history_older_than_what_is_kept_starts_with_a_resync(
    make_backend: Callable[[], Backend],
) -> None:
    channels = Channels(make_backend(), history={"log": 3})
    async with channels.running():
        assert [e.kind for e in await channels.history_after("log", "1-0", 10)] == ["resync"]
        ids = [await channels.publish("log", n) for n in range(3)]
        kept = await channels.history_after("log", ids[0], 10)
        assert [(e.kind, e.data) for e in kept] == [("message", 1), ("message", 2)]
        older = await channels.history_after("log", "1-0", 10)
        assert [e.kind for e in older] == ["resync", "message", "message", "message"]
        if isinstance(channels.backend, MemoryBackend):  # Redis trims approximately
            await channels.publish("log", 3)
            trimmed = await channels.history_after("log", ids[0], 10)
            assert [(e.kind, e.data) for e in trimmed] == [
                ("resync", {"dropped": None}),
                ("message", 1),
                ("message", 2),
                ("message", 3),
            ]


@pytest.mark.anyio
async def test_a_process_holds_one_redis_subscription_per_channel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.channels.conftest import drop_keys
    from tests.channels.conftest import new_prefix
    from tests.channels.conftest import redis_url

    from trivium.channels import RedisBackend

    url, prefix = redis_url(), new_prefix()
    one = Channels(RedisBackend(url, prefix=prefix))
    two = Channels(RedisBackend(url, prefix=prefix))
    name = f"{prefix}c:hall"

    async def subscribed() -> int:
        counts = await one.backend.client.pubsub_numsub(name)  # type: ignore[attr-defined]
        return int(counts[0][1])

    try:
        async with one.running(), two.running():
            async with one.subscribe("hall") as sub, one.subscribe("hall"), one.subscribe("hall"):
                assert one.subscribers("hall") == 3
                assert await subscribed() == 1
                async with two.subscribe("hall"):
                    assert await subscribed() == 2
                    # One PUBLISH, delivered once per process.
                    assert await one.backend.client.publish(name, b"m\n1") == 2  # type: ignore[attr-defined]
                    # Something else publishing on the channel is logged and skipped.
                    await one.backend.client.publish(name, b"not ours")  # type: ignore[attr-defined]
                    await one.publish("hall", "still flowing")
                with anyio.fail_after(5):
                    assert [(await sub.get()).data for _ in range(2)] == [1, "still flowing"]
            with anyio.fail_after(5):
                while await subscribed():  # noqa: ASYNC110 - polling Redis, not a flag
                    await anyio.sleep(0.01)
    finally:
        drop_keys(url, prefix)
    assert any("not published by trivium" in r.getMessage() for r in caplog.records)
