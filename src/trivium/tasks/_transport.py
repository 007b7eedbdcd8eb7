"""Moving task messages from producers to workers: in this process, or over Redis Streams.

A transport carries opaque messages (bytes) on named queues, holds delayed ones until
they are due and hands them to workers as `Delivery`s that must be acknowledged.

`RedisTransport` builds on taskiq-redis's `RedisStreamBroker` (a stream per queue, one
consumer group, messages acknowledged once handled) and adds what crash recovery needs:
a message handed to a worker is *leased* to it for `lease` seconds, renewed while the
task runs; a message whose lease expired (its worker was killed) is claimed by another
worker with `XAUTOCLAIM`. No lock guards the claim (`XAUTOCLAIM` is atomic), so a killed
worker cannot block recovery (taskiq-redis#131). Delayed messages wait in a sorted set
and are moved to their stream by a server-side script that removes and appends in one
step, so each is delivered once however many workers poll (kombu#337).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
import uuid
from collections import deque
from collections.abc import Sequence
from typing import Any

__all__ = ["Delivery", "MemoryTransport", "RedisTransport", "Transport"]


class Delivery:
    """One received message; `ack` once it is handled, `extend` to keep the lease."""

    __slots__ = ("data", "message_id", "stream")

    def __init__(self, data: bytes, stream: str = "", message_id: str = "") -> None:
        self.data = data
        self.stream = stream
        self.message_id = message_id


class Transport:
    """Base class of transports."""

    async def start(self, queues: Sequence[str]) -> None:
        """Connect and prepare `queues`."""

    async def stop(self) -> None:
        """Disconnect."""

    async def send(self, queue: str, data: bytes, eta: float | None = None) -> None:
        """Send a message, held until Unix time `eta` if given."""
        raise NotImplementedError

    async def receive(self, queues: Sequence[str], count: int, wait: float) -> list[Delivery]:
        """Return up to `count` messages, waiting up to `wait` seconds for the first."""
        raise NotImplementedError

    async def ack(self, delivery: Delivery) -> None:
        """Acknowledge a handled message: it is not delivered again."""

    async def extend(self, delivery: Delivery) -> bool:
        """Renew the lease of a message being handled; `False` if it was lost."""
        return True

    @property
    def lease(self) -> float | None:
        """Seconds a received message stays leased without renewal (`None`: forever)."""
        return None


class MemoryTransport(Transport):
    """Queues in this process's memory: for development, tests and single-process apps.

    Messages do not survive the process and cannot reach other processes.
    """

    def __init__(self) -> None:
        self.queues: dict[str, deque[bytes]] = {}
        self.delayed: list[tuple[float, int, str, bytes]] = []
        self._counter = itertools.count()
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, queues: Sequence[str]) -> None:
        """Bind to the running loop."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def _wake(self) -> None:
        if self._event is None or self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._event.set()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._event.set)

    async def send(self, queue: str, data: bytes, eta: float | None = None) -> None:
        """Queue the message (or hold it until `eta`)."""
        if eta is not None and eta > time.time():
            heapq.heappush(self.delayed, (eta, next(self._counter), queue, data))
        else:
            self.queues.setdefault(queue, deque()).append(data)
        self._wake()

    def _move_due(self) -> float | None:
        now = time.time()
        while self.delayed and self.delayed[0][0] <= now:
            _, _, queue, data = heapq.heappop(self.delayed)
            self.queues.setdefault(queue, deque()).append(data)
        return self.delayed[0][0] - now if self.delayed else None

    async def receive(self, queues: Sequence[str], count: int, wait: float) -> list[Delivery]:
        """Return queued messages, waiting for one (or for a delayed one to be due)."""
        if self._event is None:
            await self.start(queues)
        assert self._event is not None
        deadline = time.monotonic() + wait
        while True:
            due_in = self._move_due()
            found: list[Delivery] = []
            for queue in queues:
                pending = self.queues.get(queue)
                while pending and len(found) < count:
                    found.append(Delivery(pending.popleft()))
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self._event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), min(left, due_in or left))

    def pending(self) -> int:
        """Return how many messages wait (delayed ones included)."""
        return sum(len(q) for q in self.queues.values()) + len(self.delayed)


_MOVE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, data in ipairs(due) do
  redis.call('ZREM', KEYS[1], data)
  redis.call('XADD', KEYS[2], '*', 'data', data)
end
return #due
"""

_EXTEND = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if p[1] and p[1][2] == ARGV[2] then
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
  return 1
end
return 0
"""


class RedisTransport(Transport):
    """Redis Streams (through taskiq-redis), with leases and exactly-once delayed hand-off.

    Args:
        url: the Redis URL.
        prefix: the prefix of every key (`PREFIX:queue:NAME` streams,
            `PREFIX:delayed:NAME` sorted sets).
        lease: seconds a worker holds a message without renewing its lease; after
            that another worker takes it over.
    """

    GROUP = "trivium"

    def __init__(self, url: str, prefix: str, lease: float) -> None:
        self.url = url
        self.prefix = prefix
        self._lease = lease
        self.consumer = uuid.uuid4().hex
        self._broker: Any = None
        self.redis: Any = None
        self._move: Any = None
        self._extend: Any = None
        self._declared: set[str] = set()
        self._last_claim = 0.0
        self._last_move = 0.0
        self._starting: asyncio.Lock | None = None

    @property
    def lease(self) -> float:
        """Seconds a message stays leased without renewal."""
        return self._lease

    def stream(self, queue: str) -> str:
        """The stream key of `queue`."""
        return f"{self.prefix}:queue:{queue}"

    async def start(self, queues: Sequence[str]) -> None:
        """Connect and create the consumer group of each queue (reading from its start)."""
        if self._broker is None:
            if self._starting is None:
                self._starting = asyncio.Lock()
            async with self._starting:
                if self._broker is None:
                    await self._connect()
        await self._declare(queues)

    async def _connect(self) -> None:
        from redis.asyncio import Redis
        from taskiq_redis import RedisStreamBroker

        broker = RedisStreamBroker(
            self.url,
            queue_name=self.stream("default"),
            consumer_group_name=self.GROUP,
            consumer_name=self.consumer,
            consumer_id="0",
            idle_timeout=int(self._lease * 1000),
        )
        await broker.startup()
        self.redis = Redis(connection_pool=broker.connection_pool)
        self._move = self.redis.register_script(_MOVE_DUE)
        self._extend = self.redis.register_script(_EXTEND)
        self._declared.clear()
        self._broker = broker

    async def _declare(self, queues: Sequence[str]) -> None:
        from redis.exceptions import ResponseError

        for queue in queues:
            if queue in self._declared:
                continue
            try:
                await self.redis.xgroup_create(
                    self.stream(queue), self.GROUP, id="0", mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._declared.add(queue)

    async def stop(self) -> None:
        """Close the connection pool."""
        broker, self._broker = self._broker, None
        if broker is not None:
            await self.redis.aclose()
            await broker.shutdown()

    async def send(self, queue: str, data: bytes, eta: float | None = None) -> None:
        """Append the message to the queue's stream, or hold it in the delayed set."""
        if self._broker is None:
            await self.start([queue])
        if eta is not None and eta > time.time():
            await self.redis.zadd(f"{self.prefix}:delayed:{queue}", {data: eta})
            return
        from taskiq.message import BrokerMessage

        message = BrokerMessage(
            task_id="", task_name="", message=data, labels={"queue_name": self.stream(queue)}
        )
        await self._broker.kick(message)

    async def receive(self, queues: Sequence[str], count: int, wait: float) -> list[Delivery]:
        """Move due delayed messages, take over expired leases, then read new messages."""
        if self._broker is None:
            await self.start(queues)
        now = time.time()
        if now - self._last_move >= 0.2:  # delayed runs are due to the fifth of a second
            self._last_move = now
            for queue in queues:
                await self._move(
                    keys=[f"{self.prefix}:delayed:{queue}", self.stream(queue)], args=[now]
                )
        found = await self._claim_expired(queues, count) if now - self._last_claim > 1 else []
        if found:
            return found
        fetched = await self.redis.xreadgroup(
            self.GROUP,
            self.consumer,
            {self.stream(queue): ">" for queue in queues},
            count=count,
            block=max(1, int(min(wait, 0.2) * 1000)),
        )
        return [
            Delivery(fields[b"data"], stream.decode(), message_id.decode())
            for stream, messages in fetched or ()
            for message_id, fields in messages
        ]

    async def _claim_expired(self, queues: Sequence[str], count: int) -> list[Delivery]:
        self._last_claim = time.time()
        found: list[Delivery] = []
        for queue in queues:
            _, messages, *_ = await self.redis.xautoclaim(
                self.stream(queue),
                self.GROUP,
                self.consumer,
                min_idle_time=int(self._lease * 1000),
                count=count - len(found),
            )
            found.extend(
                Delivery(fields[b"data"], self.stream(queue), message_id.decode())
                for message_id, fields in messages
                if fields  # a deleted entry comes back empty
            )
            if len(found) >= count:
                break
        return found

    async def ack(self, delivery: Delivery) -> None:
        """Acknowledge and delete the message."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(delivery.stream, self.GROUP, delivery.message_id)
            pipe.xdel(delivery.stream, delivery.message_id)
            await pipe.execute()

    async def extend(self, delivery: Delivery) -> bool:
        """Reset the message's idle time if this worker still holds it."""
        held = await self._extend(
            keys=[delivery.stream], args=[self.GROUP, self.consumer, delivery.message_id]
        )
        return bool(held)
