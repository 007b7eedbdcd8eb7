"""Task messages over RabbitMQ (AMQP 0-9-1, through aio-pika), with Redis for delays.

Each trivium queue is a durable classic RabbitMQ queue `PREFIX.NAME` declared with
`x-max-priority` 9, so RabbitMQ hands out its messages highest priority first. Messages
are persistent and published with confirms: `send` returns once RabbitMQ has them.
They are published as mandatory, so one that reaches no queue (the queue was deleted
while this process had it declared: by an operator, a policy, a node reset) comes back
as an error instead of being confirmed and dropped: the queue is declared again and the
message published once more.

A worker consumes with manual acknowledgement and a channel-wide prefetch equal to its
concurrency, so it never holds more messages than it can run: a message is delivered
to it only when a slot is free, and then the highest priority waiting in that queue
comes first. RabbitMQ itself is the lease: an unacknowledged message goes back to its
queue as soon as the worker's connection closes (the process was killed, its host lost),
and another worker gets it. `extend` has nothing to renew.

RabbitMQ has no exact delayed delivery without a plugin (per-message TTLs expire only
at a queue's head), so delayed runs (countdowns, retry backoffs) wait in Redis sorted
sets, as with the Redis broker. Workers move due ones with a script that hands each to
one worker for `lease` seconds; that worker publishes it, then deletes it. If it dies in
between, the run is handed out again once the hand-off expires (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Sequence
from typing import Any

from trivium.errors import ServiceUnavailable
from trivium.tasks._errors import RETRY_AFTER
from trivium.tasks._transport import MAX_PRIORITY
from trivium.tasks._transport import Delivery
from trivium.tasks._transport import Transport
from trivium.tasks._transport import redis_options

__all__ = ["RabbitMQTransport"]

logger = logging.getLogger("trivium.tasks")

# KEYS[1]: the hand-off set; KEYS[2..]: delayed sets. ARGV[1]: now; ARGV[2]: hand-off
# expiry; ARGV[3..]: the tag (`PRIORITY|QUEUE`) of each delayed set. Returns the members
# (`TAG\nDATA`) this caller must publish: due runs, and hand-offs whose worker died.
_TAKE_DUE = """
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)) do
  redis.call('ZADD', KEYS[1], ARGV[2], member)
  table.insert(out, member)
end
for i = 2, #KEYS do
  for _, data in ipairs(redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1], 'LIMIT', 0, 100)) do
    local member = ARGV[i + 1] .. '\\n' .. data
    redis.call('ZREM', KEYS[i], data)
    redis.call('ZADD', KEYS[1], ARGV[2], member)
    table.insert(out, member)
  end
end
return out
"""


class RabbitMQTransport(Transport):
    """RabbitMQ queues with message priorities; delayed messages in Redis.

    Args:
        url: the AMQP URL (`amqp://user:password@host:5672/vhost`).
        prefix: the prefix of the queue names (`PREFIX.NAME`) and of the Redis keys.
        lease: seconds between the worker's looks at the state of its running tasks
            (to stop cancelled ones), and the hand-off time of due delayed messages.
        redis_url: the Redis that holds delayed messages (and the run state).
    """

    def __init__(self, url: str, prefix: str, lease: float, redis_url: str) -> None:
        self.url = url
        self.prefix = prefix
        self._lease = lease
        self.redis_url = redis_url
        self.redis: Any = None
        self._connection: Any = None
        self._channel: Any = None
        self._consuming: Any = None
        self._declared: dict[str, Any] = {}
        self._take_due: Any = None
        self._last_move = 0.0
        self._ready: list[tuple[int, int, Any, str]] = []
        self._order = itertools.count()
        self._arrived = asyncio.Event()
        self._held: dict[str, Any] = {}
        self._starting: asyncio.Lock | None = None

    @property
    def lease(self) -> float:
        """Seconds between looks at the running tasks' state (cancellation)."""
        return self._lease

    def queue_name(self, queue: str) -> str:
        """The RabbitMQ queue of trivium queue `queue`."""
        return f"{self.prefix}.{queue}"

    def _delayed(self, queue: str, priority: int) -> str:
        return f"{self.prefix}:delayed{f'.p{priority}' if priority else ''}:{queue}"

    async def start(self, queues: Sequence[str]) -> None:
        """Connect (to RabbitMQ and Redis) and declare `queues`."""
        if self._connection is None:
            if self._starting is None:
                self._starting = asyncio.Lock()
            async with self._starting:
                if self._connection is None:
                    await self._connect()
        for queue in queues:
            await self._declare(self._channel, queue)

    async def _connect(self) -> None:
        import aio_pika
        from redis.asyncio import Redis

        self.redis = Redis.from_url(self.redis_url, **redis_options())
        self._take_due = self.redis.register_script(_TAKE_DUE)
        self._arrived = asyncio.Event()  # of this loop (a stopped transport may move on)
        connection = await aio_pika.connect_robust(self.url)
        # `on_return_raises`: a mandatory message that reached no queue fails its publish.
        self._channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        self._declared = {}
        self._connection = connection

    async def _declare(self, channel: Any, queue: str) -> Any:
        key = f"{id(channel)}:{queue}"
        if key not in self._declared:
            self._declared[key] = await channel.declare_queue(
                self.queue_name(queue),
                durable=True,
                arguments={"x-max-priority": MAX_PRIORITY, "x-queue-type": "classic"},
            )
        return self._declared[key]

    async def stop(self) -> None:
        """Close the connections; RabbitMQ requeues every message not acknowledged."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        self._consuming = None
        self._starting = None
        self._ready.clear()
        self._held.clear()
        await connection.close()
        await self.redis.aclose()

    async def send(
        self, queue: str, data: bytes, eta: float | None = None, priority: int = 0
    ) -> None:
        """Publish the message (confirmed, persistent), or hold it in Redis until `eta`."""
        if self._connection is None:
            await self.start([queue])
        if eta is not None and eta > time.time():
            await self.redis.zadd(self._delayed(queue, priority), {data: eta})
            return
        await self._publish(queue, data, priority)

    async def _publish(self, queue: str, data: bytes, priority: int) -> None:
        import aio_pika
        from aiormq.exceptions import DeliveryError
        from aiormq.exceptions import PublishError

        channel = self._channel
        await self._declare(channel, queue)
        message = aio_pika.Message(
            data, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, priority=priority
        )
        name = self.queue_name(queue)
        try:
            try:
                await channel.default_exchange.publish(message, routing_key=name, mandatory=True)
            except PublishError:  # returned unroutable: the queue is gone, declare it again
                self._declared.pop(f"{id(channel)}:{queue}", None)
                await self._declare(channel, queue)
                await channel.default_exchange.publish(message, routing_key=name, mandatory=True)
        except DeliveryError as exc:  # refused (a full queue, a policy) or returned again
            # The broker answers but takes no task: like an outage for the caller, who
            # may try again later; the operator gets the broker's reason.
            logger.warning("RabbitMQ did not accept a task for queue %s: %r", name, exc)
            raise ServiceUnavailable(
                f"the task broker did not accept the task for queue {queue!r}",
                retry_after=RETRY_AFTER,
            ) from exc

    async def receive(self, queues: Sequence[str], count: int, wait: float) -> list[Delivery]:
        """Publish due delayed messages, then return up to `count` delivered ones."""
        if self._connection is None:
            await self.start(queues)
        if self._consuming is None:
            await self._consume(queues, count)
        now = time.time()
        if now - self._last_move >= 0.2:  # delayed runs are due to the fifth of a second
            self._last_move = now
            await self._move_due(queues, now)
        deadline = time.monotonic() + wait
        while not self._ready:
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self._arrived.clear()
            # `asyncio.timeout`: `wait_for` can lose a cancellation on Python 3.11.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(left, 0.2)):
                    await self._arrived.wait()
        found: list[Delivery] = []
        while self._ready and len(found) < count:
            _, order, message, queue = heapq.heappop(self._ready)
            self._held[str(order)] = message
            found.append(Delivery(message.body, queue, str(order)))
        return found

    async def _consume(self, queues: Sequence[str], concurrency: int) -> None:
        """Consume `queues` on a channel of its own, holding at most `concurrency`."""
        channel = await self._connection.channel()
        # Shared by the channel's consumers: never more unacknowledged messages (running
        # or about to) than the worker has slots. The first `receive` asks for them all.
        try:
            await channel.set_qos(prefetch_count=concurrency, global_=True)
            for queue in queues:
                declared = await self._declare(channel, queue)

                async def arrived(message: Any, queue: str = queue) -> None:
                    priority = message.priority or 0
                    heapq.heappush(self._ready, (-priority, next(self._order), message, queue))
                    self._arrived.set()

                await declared.consume(arrived, no_ack=False)
        except BaseException:
            # Consuming only once every queue is: a connection lost halfway (a consumer
            # never registered) is consumed again on a new channel at the next receive.
            with contextlib.suppress(Exception):
                await channel.close()
            raise
        self._consuming = channel

    async def _move_due(self, queues: Sequence[str], now: float) -> None:
        pairs = [(q, p) for p in range(MAX_PRIORITY + 1) for q in queues]
        handoff = f"{self.prefix}:handoff"
        members = await self._take_due(
            keys=[handoff, *(self._delayed(q, p) for q, p in pairs)],
            args=[now, now + self._lease, *(f"{p}|{q}" for q, p in pairs)],
        )
        for member in members:
            tag, _, data = member.partition(b"\n")
            priority, _, queue = tag.decode().partition("|")
            await self._publish(queue, data, int(priority))
            await self.redis.zrem(handoff, member)

    async def ack(self, delivery: Delivery) -> None:
        """Acknowledge the message: RabbitMQ deletes it."""
        message = self._held.pop(delivery.message_id, None)
        if message is not None:
            await message.ack()
