"""`RedisStore.get` over the store's pipelined connection, against a real Redis."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import redis.asyncio
from redis.exceptions import ResponseError

from trivium.stores import RedisStore
from trivium.stores import pipelined_channel

URL = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")
pytestmark = [
    pytest.mark.skipif(not URL, reason="needs TRIVIUM_TEST_REDIS_URL"),
    pytest.mark.drives_no_app,
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def store() -> AsyncIterator[RedisStore]:
    # A name of its own: CLIENT LIST is server-wide, and other tests (the other pass of
    # `make test`, run side by side) read through channels of their own.
    name = f"channel-test-{uuid.uuid4().hex[:8]}"
    made = RedisStore(f"{URL}{'&' if '?' in URL else '?'}client_name={name}", prefix=f"{name}:")
    yield made
    keys = [key async for key in made.client.scan_iter(made.prefix + "*")]
    if keys:
        await made.client.delete(*keys)
    await made.close()


def redis_sockets() -> int:
    """Count this process's open TCP connections to the Redis port."""
    port = urlsplit(URL).port or 6379
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count


async def channel_client_ids(client: redis.asyncio.Redis) -> list[int]:
    """The ids of this client's connections that last ran GET: the channel's (redis-py's ran
    other commands); the channel has the client's name."""
    name = client.connection_pool.connection_kwargs.get("client_name")
    listing = await client.client_list()
    return [
        int(entry["id"])
        for entry in listing
        if entry.get("cmd") == "get" and entry.get("name") == name
    ]


def test_a_store_built_from_a_url_reads_over_the_channel() -> None:
    assert pipelined_channel(redis.asyncio.from_url(URL)) is not None
    ssl = redis.asyncio.from_url(URL.replace("redis://", "rediss://", 1))
    assert pipelined_channel(ssl) is None  # TLS keeps redis-py


@pytest.mark.anyio
async def test_many_concurrent_reads_each_get_their_own_value(store: RedisStore) -> None:
    for index in range(50):
        await store.set(f"k{index}", f"value {index}".encode())
    keys = [f"k{index % 60}" for index in range(300)]  # some missing
    values = await asyncio.gather(*(store.get(key) for key in keys))
    expected = [f"value {i % 60}".encode() if i % 60 < 50 else None for i in range(300)]
    assert values == expected


class _CountingSocket:
    """The channel's socket, counting the system calls that write to it."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.writes = 0

    def send(self, data: bytes) -> int:
        self.writes += 1
        return int(self.sock.send(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


@pytest.mark.anyio
async def test_the_commands_of_one_turn_of_the_loop_go_out_in_one_write() -> None:
    channel = pipelined_channel(redis.asyncio.from_url(URL))
    assert channel is not None
    try:
        assert await channel.call("PING") == b"PONG"  # connected
        link = channel._link  # the open connection (internal: what is measured)
        assert link is not None
        counting = link.sock = _CountingSocket(link.sock)
        replies = await asyncio.gather(*(channel.call("ECHO", str(n)) for n in range(40)))
        assert replies == [str(n).encode() for n in range(40)]
        assert counting.writes == 1
        # A payload larger than the socket's buffer is written in parts, in order.
        big = b"x" * (8 << 20)
        key = f"channel-test-{uuid.uuid4().hex}"
        replies = await channel.execute([("SET", key, big), ("STRLEN", key), ("DEL", key)])
        assert replies == [b"OK", len(big), 1]
        assert counting.writes > 2
    finally:
        channel.close()


@pytest.mark.anyio
async def test_a_key_of_another_type_is_redis_own_error(store: RedisStore) -> None:
    await store.client.rpush(store.prefix + "list", "x")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await store.get("list")
    await store.set("after", b"fine")  # the connection is still in step
    assert await store.get("after") == b"fine"


@pytest.mark.anyio
async def test_a_read_cancelled_in_flight_leaves_the_next_reads_in_step(
    store: RedisStore,
) -> None:
    await store.set("a", b"1")
    await store.set("b", b"2")
    pending = asyncio.ensure_future(store.get("a"))
    await asyncio.sleep(0)  # sent, reply not read yet
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert await store.get("b") == b"2"
    assert await store.get("a") == b"1"


@pytest.mark.anyio
async def test_a_connection_redis_dropped_is_replaced_without_an_error(
    store: RedisStore,
) -> None:
    await store.set("key", b"kept")
    assert await store.get("key") == b"kept"
    (first,) = await channel_client_ids(store.client)
    # Killed from outside this loop, which sees the close only when it reads the socket.
    with redis.Redis.from_url(URL) as other:
        other.client_kill_filter(_id=first)
    time.sleep(0.05)  # noqa: ASYNC251 - blocking on purpose: the loop must not run
    assert await store.get("key") == b"kept"
    assert first not in await channel_client_ids(store.client)


def test_moving_to_another_event_loop_closes_the_previous_connection() -> None:
    store = RedisStore(URL, prefix=f"channel-{uuid.uuid4().hex[:8]}:")
    before = redis_sockets()

    async def read() -> bytes | None:
        await store.set("key", b"v")
        value = await store.get("key")
        await store.client.connection_pool.disconnect()  # redis-py's own, for the count
        return value

    for _ in range(3):  # a test client runs each request on a loop of its own
        assert asyncio.run(read()) == b"v"
        assert redis_sockets() == before + 1  # this loop's channel connection only

    async def close() -> None:
        await store.client.delete(store.prefix + "key")
        await store.close()

    asyncio.run(close())
    assert redis_sockets() == before


def test_the_docs_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).parents[2] / "docs" / "sessions.md").read_text()
    section = text.split("### Reads over one pipelined connection", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    code = code.replace("redis://127.0.0.1:6379/0", URL)
    with redis.Redis.from_url(URL) as client:
        client.delete("greeting", "visits")
    exec(compile(code, "docs/sessions.md", "exec"), {"__name__": "docs"})  # noqa: S102
    assert capsys.readouterr().out.splitlines() == ["b'hello'", "[1, b'hello']"]
    with redis.Redis.from_url(URL) as client:
        client.delete("greeting", "visits")
