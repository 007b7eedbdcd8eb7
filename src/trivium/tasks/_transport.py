"""Moving task messages from producers to workers: in this process, or over Redis Streams.

A transport carries opaque messages (bytes) on named queues, holds delayed ones until
they are due and hands them to workers as `Delivery`s that must be acknowledged.

Every message has a priority, 0 to 9 (`MAX_PRIORITY`): a worker takes the highest
priority waiting on any of its queues first, and messages of one priority in the order
they were sent.

`RedisTransport` builds on taskiq-redis's `RedisStreamBroker` (a stream per queue and
priority, one consumer group, messages acknowledged once handled) and adds what crash
recovery needs:
a message handed to a worker is *leased* to it for `lease` seconds, renewed while the
task runs; a message whose lease expired (its worker was killed) is claimed by another
worker with `XAUTOCLAIM`. No lock guards the claim (`XAUTOCLAIM` is atomic), so a killed
worker cannot block recovery (taskiq-redis#131). Delayed messages wait in a sorted set
and are moved to their stream by a server-side script that removes and appends in one
step, so each is delivered once however many workers poll (kombu#337). A worker reads
its streams with a server-side script that takes from the highest priority's streams
first, so it never holds a low-priority message while a higher one waits; when every
stream is empty it waits on them with a plain `XREAD` (which takes nothing) and reads
again once one has a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import importlib.util
import itertools
import time
import uuid
from collections.abc import Sequence
from typing import Any

from trivium.errors import ConfigurationError
from trivium.errors import MissingDependencyError

__all__ = [
    "MAX_PRIORITY",
    "Delivery",
    "MemoryTransport",
    "RedisTransport",
    "Transport",
    "transport_for",
]

MAX_PRIORITY = 9
"""The highest priority; priorities run from 0 (the default, lowest) to this."""

REDIS_TIMEOUT = 2.0
"""Seconds the tasks' Redis clients wait to connect and for each reply, as the cache's.

A Redis that accepts connections but never answers (frozen, behind a dead proxy) then
fails an enqueue with a 503 and start-up with `tasks-unreachable` instead of hanging.
Every command must answer within it: the worker's `XREAD` blocks for 0.2 s at most.
"""


def redis_options() -> dict[str, Any]:
    """Return the keyword settings of the tasks' Redis clients (timeouts, one retry).

    A lost connection is retried once at once; a timeout is not retried, which would
    double every wait past `REDIS_TIMEOUT`.
    """
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    return {
        "socket_timeout": REDIS_TIMEOUT,
        "socket_connect_timeout": REDIS_TIMEOUT,
        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    }


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

    async def send(
        self, queue: str, data: bytes, eta: float | None = None, priority: int = 0
    ) -> None:
        """Send a message of `priority` (0-9), held until Unix time `eta` if given."""
        raise NotImplementedError

    async def receive(self, queues: Sequence[str], count: int, wait: float) -> list[Delivery]:
        """Return up to `count` messages, the highest priority first.

        Waits up to `wait` seconds for the first.
        """
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

    reclaims = False
    """Whether an unacknowledged message is delivered again once its lease expired, even
    while its worker lives (Redis Streams); elsewhere it comes back only if the worker's
    connection is lost."""


class MemoryTransport(Transport):
    """Queues in this process's memory: for development, tests and single-process apps.

    Each queue is a heap ordered by priority (highest first), then by sending order.
    Messages do not survive the process and cannot reach other processes.
    """

    def __init__(self) -> None:
        self.queues: dict[str, list[tuple[int, int, bytes]]] = {}
        """The waiting messages of each queue: heaps of `(-priority, order, data)`."""
        self.delayed: list[tuple[float, int, str, int, bytes]] = []
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

    def _queue(self, queue: str, priority: int, data: bytes) -> None:
        heapq.heappush(self.queues.setdefault(queue, []), (-priority, next(self._counter), data))

    async def send(
        self, queue: str, data: bytes, eta: float | None = None, priority: int = 0
    ) -> None:
        """Queue the message (or hold it until `eta`)."""
        if eta is not None and eta > time.time():
            heapq.heappush(self.delayed, (eta, next(self._counter), queue, priority, data))
        else:
            self._queue(queue, priority, data)
        self._wake()

    def _move_due(self) -> float | None:
        now = time.time()
        while self.delayed and self.delayed[0][0] <= now:
            _, _, queue, priority, data = heapq.heappop(self.delayed)
            self._queue(queue, priority, data)
        return self.delayed[0][0] - now if self.delayed else None

    def _take(self, queues: Sequence[str] | None, count: int) -> list[Delivery]:
        names = self.queues if queues is None else queues
        heaps = [heap for queue in names if (heap := self.queues.get(queue))]
        found: list[Delivery] = []
        while heaps and len(found) < count:
            best = min(heaps, key=lambda heap: heap[0])  # the highest priority, then the oldest
            found.append(Delivery(heapq.heappop(best)[2]))
            if not best:
                heaps.remove(best)
        return found

    async def receive(self, queues: Sequence[str], count: int, wait: float) -> list[Delivery]:
        """Return queued messages, waiting for one (or for a delayed one to be due)."""
        return await self._receive(queues, count, wait)

    async def receive_any(self, count: int, wait: float) -> list[Delivery]:
        """Return queued messages of every queue, as `receive` does for some.

        The in-app worker's way: nothing else can run this process's messages, so it
        takes those sent to a queue no task declares (`options(queue=...)`) too.
        """
        return await self._receive(None, count, wait)

    async def _receive(
        self, queues: Sequence[str] | None, count: int, wait: float
    ) -> list[Delivery]:
        if self._event is None:
            await self.start(queues or ())
        assert self._event is not None
        deadline = time.monotonic() + wait
        while True:
            due_in = self._move_due()
            found = self._take(queues, count)
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self._event.clear()
            # `asyncio.timeout`: `wait_for` can lose a cancellation on Python 3.11.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(left, due_in or left)):
                    await self._event.wait()

    def pending(self) -> int:
        """Return how many messages wait (delayed ones included)."""
        return sum(len(q) for q in self.queues.values()) + len(self.delayed)


# KEYS: pairs of (delayed set, stream); ARGV[1]: now. Moves up to 100 due runs per pair.
_MOVE_DUE = """
local moved = 0
for i = 1, #KEYS, 2 do
  local due = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1], 'LIMIT', 0, 100)
  for _, data in ipairs(due) do
    redis.call('ZREM', KEYS[i], data)
    redis.call('XADD', KEYS[i + 1], '*', 'data', data)
  end
  moved = moved + #due
end
return moved
"""

# Shared by the two scripts below: an entry's `data` field ('' in a foreign message).
_DATA = """
local function data(fields)
  for i = 1, #fields, 2 do
    if fields[i] == 'data' then return fields[i + 1] end
  end
  return ''
end
"""

# KEYS: streams, highest priority first; ARGV: group, consumer, count.
# Returns flat (stream, id, data) triples, at most `count`.
_READ = (
    _DATA
    + """
local found, n, want = {}, 0, tonumber(ARGV[3])
for _, key in ipairs(KEYS) do
  local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', want - n,
                           'STREAMS', key, '>')
  if reply then
    for _, entry in ipairs(reply[1][2]) do
      n = n + 1
      table.insert(found, key); table.insert(found, entry[1]); table.insert(found, data(entry[2]))
    end
  end
  if n >= want then break end
end
return found
"""
)

# KEYS: streams, highest priority first; ARGV: group, consumer, min idle ms, count.
_CLAIM = (
    _DATA
    + """
local found, n, want = {}, 0, tonumber(ARGV[4])
for _, key in ipairs(KEYS) do
  local reply = redis.call('XAUTOCLAIM', key, ARGV[1], ARGV[2], ARGV[3], '0-0',
                           'COUNT', want - n)
  for _, entry in ipairs(reply[2]) do
    if type(entry[2]) == 'table' then  -- a deleted entry comes back without fields
      n = n + 1
      table.insert(found, key); table.insert(found, entry[1]); table.insert(found, data(entry[2]))
    end
  end
  if n >= want then break end
end
return found
"""
)

_EXTEND = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if p[1] and p[1][2] == ARGV[2] then
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
  return 1
end
return 0
"""


def _deliveries(triples: Sequence[bytes]) -> list[Delivery]:
    return [
        Delivery(triples[i + 2], triples[i].decode(), triples[i + 1].decode())
        for i in range(0, len(triples), 3)
    ]


class RedisTransport(Transport):
    """Redis Streams (through taskiq-redis), with leases and exactly-once delayed hand-off.

    Args:
        url: the Redis URL.
        prefix: the prefix of every key: the streams `PREFIX:queue:NAME` (priority 0)
            and `PREFIX:queue.pN:NAME` (priority N), the sorted sets of delayed runs
            `PREFIX:delayed:NAME` and `PREFIX:delayed.pN:NAME`.
        lease: seconds a worker holds a message without renewing its lease; after
            that another worker takes it over.
    """

    GROUP = "trivium"
    reclaims = True

    def __init__(self, url: str, prefix: str, lease: float) -> None:
        self.url = url
        self.prefix = prefix
        self._lease = lease
        self.consumer = uuid.uuid4().hex
        self._broker: Any = None
        self.redis: Any = None
        self._scripts: dict[str, Any] = {}
        self._declared: set[str] = set()
        self._last_claim = 0.0
        self._last_move = 0.0
        self._starting: asyncio.Lock | None = None

    @property
    def lease(self) -> float:
        """Seconds a message stays leased without renewal."""
        return self._lease

    def stream(self, queue: str, priority: int = 0) -> str:
        """The stream key of `queue`'s messages of `priority`."""
        return f"{self.prefix}:queue{f'.p{priority}' if priority else ''}:{queue}"

    def _delayed(self, queue: str, priority: int = 0) -> str:
        return f"{self.prefix}:delayed{f'.p{priority}' if priority else ''}:{queue}"

    def _streams(self, queues: Sequence[str]) -> list[str]:
        """The streams of `queues`, the highest priority first."""
        return [self.stream(q, p) for p in range(MAX_PRIORITY, -1, -1) for q in queues]

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
            **redis_options(),
        )
        await broker.startup()
        self.redis = Redis(connection_pool=broker.connection_pool)
        self._scripts = {
            name: self.redis.register_script(script)
            for name, script in (
                ("move", _MOVE_DUE),
                ("read", _READ),
                ("claim", _CLAIM),
                ("extend", _EXTEND),
            )
        }
        self._declared.clear()
        self._broker = broker

    async def _declare(self, queues: Sequence[str]) -> None:
        """Create the consumer group of every priority's stream of `queues` (once each)."""
        from redis.exceptions import ResponseError

        new = [queue for queue in queues if queue not in self._declared]
        if not new:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream in self._streams(new):
                pipe.xgroup_create(stream, self.GROUP, id="0", mkstream=True)
            results = await pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, ResponseError) and "BUSYGROUP" not in str(result):
                raise result
        self._declared.update(new)

    async def stop(self) -> None:
        """Close the connection pool."""
        broker, self._broker = self._broker, None
        if broker is not None:
            await self.redis.aclose()
            await broker.shutdown()

    async def send(
        self, queue: str, data: bytes, eta: float | None = None, priority: int = 0
    ) -> None:
        """Append the message to its stream, or hold it in the delayed set."""
        if self._broker is None:
            await self.start([queue])
        if eta is not None and eta > time.time():
            await self.redis.zadd(self._delayed(queue, priority), {data: eta})
            return
        from taskiq.message import BrokerMessage

        message = BrokerMessage(
            task_id="",
            task_name="",
            message=data,
            labels={"queue_name": self.stream(queue, priority)},
        )
        await self._broker.kick(message)

    async def receive(self, queues: Sequence[str], count: int, wait: float) -> list[Delivery]:
        """Move due delayed messages, take over expired leases, then read new messages.

        A Redis that lost its data (restarted without persistence, flushed, failed over
        to an empty replica, the stream evicted) has lost the consumer groups too: on
        `NOGROUP` the queues are declared again and read from the start of their streams,
        so the messages sent since are not lost.
        """
        from redis.exceptions import ResponseError

        if self._broker is None or any(queue not in self._declared for queue in queues):
            await self.start(queues)
        try:
            return await self._receive(queues, count, wait)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):  # Redis < 7 wraps a script's error in its own
                raise
        self._declared.difference_update(queues)
        await self._declare(queues)
        return await self._receive(queues, count, wait)

    async def _receive(self, queues: Sequence[str], count: int, wait: float) -> list[Delivery]:
        now = time.time()
        if now - self._last_move >= 0.2:  # delayed runs are due to the fifth of a second
            self._last_move = now
            keys = [
                key
                for p in range(MAX_PRIORITY + 1)
                for q in queues
                for key in (self._delayed(q, p), self.stream(q, p))
            ]
            await self._scripts["move"](keys=keys, args=[now])
        streams = self._streams(queues)
        if now - self._last_claim > 1:
            self._last_claim = now
            claimed = await self._scripts["claim"](
                keys=streams,
                args=[self.GROUP, self.consumer, int(self._lease * 1000), count],
            )
            if claimed:
                return _deliveries(claimed)
        found = await self._read(streams, count)
        if found:
            return found
        # Nothing waits: sleep until a stream gets a message (XREAD takes none), then read.
        # A message sent between the read and this wait is seen at the next call (0.2 s).
        woken = await self.redis.xread(
            dict.fromkeys(streams, "$"), count=1, block=max(1, int(min(wait, 0.2) * 1000))
        )
        return await self._read(streams, count) if woken else []

    async def _read(self, streams: list[str], count: int) -> list[Delivery]:
        return _deliveries(
            await self._scripts["read"](keys=streams, args=[self.GROUP, self.consumer, count])
        )

    async def ack(self, delivery: Delivery) -> None:
        """Acknowledge and delete the message."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(delivery.stream, self.GROUP, delivery.message_id)
            pipe.xdel(delivery.stream, delivery.message_id)
            await pipe.execute()

    async def extend(self, delivery: Delivery) -> bool:
        """Reset the message's idle time if this worker still holds it."""
        from redis.exceptions import ResponseError

        try:
            held = await self._scripts["extend"](
                keys=[delivery.stream], args=[self.GROUP, self.consumer, delivery.message_id]
            )
        except ResponseError as exc:
            if "NOGROUP" in str(exc):  # Redis lost its data: the message is gone
                return False
            raise
        return bool(held)


_REDIS = ("redis", "rediss", "unix")
_AMQP = ("amqp", "amqps")


def transport_for(broker: str, prefix: str, lease: float, state: str | None) -> Transport:
    """Return the transport of broker URL `broker`.

    Raises:
        ConfigurationError: an unknown broker (`tasks-broker`), or `state=` missing with
            RabbitMQ or given with another broker (`tasks-state`).
        MissingDependencyError: RabbitMQ without aio-pika (the `rabbitmq` extra).
    """
    scheme = broker.partition("://")[0]
    if scheme not in ("memory", *_REDIS, *_AMQP):
        raise ConfigurationError(
            f"Tasks(broker={broker!r}): give 'memory://', a Redis URL (redis://host:6379/0) "
            "or a RabbitMQ URL (amqp://user:password@host:5672/)",
            "tasks-broker",
        )
    if (scheme in _AMQP) != (state is not None) or (
        state is not None and state.partition("://")[0] not in _REDIS
    ):
        raise ConfigurationError(
            f"Tasks({broker!r}, state={state!r}): a RabbitMQ broker needs state='redis://...' "
            "(the Redis that keeps run state and delayed runs); other brokers take no state=",
            "tasks-state",
        )
    if scheme == "memory":
        return MemoryTransport()
    if scheme in _REDIS:
        return RedisTransport(broker, prefix, lease)
    if importlib.util.find_spec("aio_pika") is None:
        raise MissingDependencyError("aio-pika", "rabbitmq")
    from trivium.tasks._amqp import RabbitMQTransport

    return RabbitMQTransport(broker, prefix, lease, str(state))
