"""Task state: what happened to each enqueued task, kept in memory or in Redis.

Every enqueued task gets a `TaskInfo` record under its id, updated as it moves through
its states (`queued`, `running`, `retrying`, `failed`, `done`, `cancelled`). The record
also holds the call (task name and arguments), so `Tasks.retry(id)` can enqueue a
failed task again, and the idempotency keys given at enqueue time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import Awaitable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

import anyio
import orjson

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from trivium.tasks._tasks import Tasks

__all__ = [
    "FINISHED",
    "HeldElsewhereError",
    "LazyRedisStore",
    "MemoryStateStore",
    "RedisStateStore",
    "StateStore",
    "TaskInfo",
    "TaskState",
    "send_recorded",
    "unsend",
]

logger = logging.getLogger("trivium.tasks")

TaskState = Literal["queued", "running", "retrying", "failed", "done", "cancelled"]
"""Where a task is: waiting (`queued`, also when delayed), `running`, waiting for its next
attempt after a failure (`retrying`), finished (`done`, `failed` after its last attempt,
`cancelled`)."""

FINISHED: frozenset[str] = frozenset({"failed", "done", "cancelled"})
"""The states a task does not leave on its own."""


@dataclass(slots=True)
class TaskInfo:
    """The state of one enqueued task, as `Tasks.get(id)` and `Tasks.list()` return it."""

    id: str
    """The task run's id (`TaskRun.id`)."""
    name: str
    """The task's name (its function's `module.qualname` unless given)."""
    state: TaskState
    """Where the task is (see `TaskState`)."""
    queue: str = "default"
    """The queue it was sent to."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """The arguments by parameter name, as JSON values."""
    attempts: int = 0
    """How many times it has started running."""
    max_attempts: int = 1
    """How many times it may run (its task's `Retry.max_attempts`)."""
    enqueued_at: float = 0.0
    """When it was enqueued (Unix time)."""
    eta: float | None = None
    """When a delayed task is due (Unix time), `None` when it runs at once."""
    started_at: float | None = None
    """When its last attempt started."""
    finished_at: float | None = None
    """When it finished (done, failed or cancelled).

    `None` for a run cancelled while running until its attempt has stopped: such a run
    cannot be retried yet.
    """
    error: str | None = None
    """The last failure, as `ExceptionType: message`."""
    traceback: str | None = None
    """The last failure's traceback."""
    result: Any = None
    """What the task returned, if it keeps its result (`keep_result=True`)."""
    key: str | None = None
    """The idempotency key it was enqueued with."""
    priority: int = 0
    """Its priority, 0 (the default) to 9: a worker takes higher ones first."""
    generation: int = 0
    """How many times `Tasks.retry` has sent the run again.

    A worker drops a message of an earlier generation (one still queued when its run
    was cancelled and retried), so a retried run runs once.
    """

    def to_json(self) -> bytes:
        """Encode the record."""
        return orjson.dumps(self)  # orjson encodes dataclasses natively

    @classmethod
    def from_json(cls, data: bytes | str) -> TaskInfo:
        """Decode a record written by `to_json` (fields this version does not know are dropped)."""
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in orjson.loads(data).items() if k in known})


class StateStore:
    """Where task records live: the process (`MemoryStateStore`) or Redis."""

    async def start(self) -> None:
        """Connect."""

    async def stop(self) -> None:
        """Disconnect."""

    async def get(self, task_id: str) -> TaskInfo | None:
        """Return the record of `task_id`, `None` when unknown (or expired)."""
        raise NotImplementedError

    async def put(self, info: TaskInfo) -> None:
        """Write (create or replace) a record."""
        raise NotImplementedError

    async def list(self, limit: int) -> list[TaskInfo]:
        """Return the `limit` most recently enqueued records, newest first."""
        raise NotImplementedError

    async def claim_key(self, key: str, task_id: str) -> str:
        """Reserve idempotency `key` for `task_id`; return the id that holds it."""
        raise NotImplementedError

    async def key_holder(self, key: str) -> str | None:
        """Return the id that holds idempotency `key`, `None` if it is free."""
        raise NotImplementedError

    async def unsend(self, task_id: str, key: str | None) -> None:
        """Forget run `task_id`, whose message was not sent, and free its `key` (if any).

        The key is freed only while it names this run, and the record dropped only while
        it is `queued` (a worker that got the message after all has made it `running`).
        """
        raise NotImplementedError

    async def create(self, info: TaskInfo) -> TaskInfo | None:
        """Write `info` unless its run has a record; return that record instead.

        What a relayed outbox row records: a row relayed twice (a crash between the
        send and the row's delete) finds its run's record, and must not reset it.
        """
        current = await self.get(info.id)
        if current is None:
            await self.put(info)
        return current

    async def begin(self, info: TaskInfo, hold: float | None = None) -> TaskInfo | None:
        """Record `info` (a run starting attempt `info.attempts`) unless the run finished.

        Returns the finished record instead (a duplicate delivery: done, cancelled, or
        failed at this attempt or a later one; a stale one: a message of an earlier
        generation than the record's, or of an attempt that a later one followed), in
        which case nothing is written. `hold` (seconds) is for transports that deliver
        an unacknowledged message again after its lease; stores that keep no holds
        ignore it.
        """
        current = await self.get(info.id)
        if current is not None and _finished_for(current, info):
            return current
        await self.put(info)
        return None

    async def hold(self, info: TaskInfo, hold: float) -> None:
        """Keep `info`'s attempt held by this worker for `hold` more seconds."""


class HeldElsewhereError(Exception):
    """`begin`: another worker is running this very attempt now (a duplicate message).

    The duplicate is left unacknowledged: the transport delivers it again after its
    lease, when the run has finished (it is then dropped) or its worker died (it runs).
    """


def _finished_for(current: TaskInfo, info: TaskInfo) -> bool:
    return (
        current.state in ("done", "cancelled")
        or (current.state == "failed" and current.attempts >= info.attempts)
        or (current.state == "retrying" and current.attempts >= info.attempts)
        or (current.state == "running" and current.attempts > info.attempts)
        or current.generation > info.generation
    )


def _hold_token(info: TaskInfo) -> str:
    return f"{info.generation}:{info.attempts}"


_BEGIN = """
local current = redis.call('GET', KEYS[1])
local attempt = tonumber(ARGV[2])
if current then
  local record = cjson.decode(current)
  if record.state == 'done' or record.state == 'cancelled'
     or ((record.state == 'failed' or record.state == 'retrying') and record.attempts >= attempt)
     or (record.state == 'running' and record.attempts > attempt)
     or (record.generation or 0) > tonumber(ARGV[5]) then
    return current
  end
end
if tonumber(ARGV[7]) > 0 then
  if redis.call('GET', KEYS[3]) == ARGV[6] then
    return 'held'
  end
  redis.call('SET', KEYS[3], ARGV[6], 'PX', ARGV[7])
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return false
"""

_HOLD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_UNSEND = """
if ARGV[2] == '1' and redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
local current = redis.call('GET', KEYS[2])
if current and cjson.decode(current).state == 'queued' then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return 0
"""

_CREATE = """
local current = redis.call('GET', KEYS[1])
if current then
  return current
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return false
"""


class MemoryStateStore(StateStore):
    """Task records in this process (the in-memory broker's companion)."""

    def __init__(self, keep: float) -> None:
        self.keep = keep
        self.records: dict[str, TaskInfo] = {}
        self.keys: dict[str, tuple[str, float]] = {}
        self._expired_at = 0.0

    async def get(self, task_id: str) -> TaskInfo | None:
        """Return the record of `task_id`."""
        return self.records.get(task_id)

    async def put(self, info: TaskInfo) -> None:
        """Write a record (a copy, as Redis would)."""
        self.records.pop(info.id, None)
        self.records[info.id] = dataclasses.replace(info)
        now = time.time()
        if now - self._expired_at > min(60.0, self.keep):
            self._expired_at = now
            self._expire(now)

    def _expire(self, now: float) -> None:
        cutoff = now - self.keep
        for task_id, info in list(self.records.items()):
            # `finished_at` is None while a cancelled run's attempt stops: kept till then.
            if (
                info.state in FINISHED
                and info.finished_at is not None
                and info.finished_at < cutoff
            ):
                del self.records[task_id]
        for key, (_, at) in list(self.keys.items()):
            if at < cutoff:
                del self.keys[key]

    async def list(self, limit: int) -> list[TaskInfo]:
        """Return the newest records first."""
        found = sorted(self.records.values(), key=lambda info: info.enqueued_at, reverse=True)
        return [dataclasses.replace(info) for info in found[:limit]]

    async def claim_key(self, key: str, task_id: str) -> str:
        """Reserve `key` unless taken."""
        holder = self.keys.setdefault(key, (task_id, time.time()))
        return holder[0]

    async def unsend(self, task_id: str, key: str | None) -> None:
        """Free `key` if it names `task_id`; drop the run's record if `queued`."""
        if key is not None and self.keys.get(key, ("",))[0] == task_id:
            del self.keys[key]
        info = self.records.get(task_id)
        if info is not None and info.state == "queued":
            del self.records[task_id]

    async def key_holder(self, key: str) -> str | None:
        """Return the id holding `key` (kept `keep` seconds), `None` if free."""
        holder = self.keys.get(key)
        if holder is None or holder[1] < time.time() - self.keep:
            return None
        return holder[0]


class RedisStateStore(StateStore):
    """Task records in Redis, shared by every process of the app and its workers.

    A record is one JSON string (`PREFIX:task:ID`) expiring `keep` seconds after the
    task finished; a sorted set (`PREFIX:index`) orders them by enqueue time.
    """

    def __init__(self, redis: Redis, prefix: str, keep: float) -> None:
        self.redis = redis
        self.prefix = prefix
        self.keep = keep
        self._begin: Any = None
        self._hold: Any = None
        self._create: Any = None
        self._unsend: Any = None

    def _key(self, task_id: str) -> str:
        return f"{self.prefix}:task:{task_id}"

    def _ttl(self) -> int:
        # Milliseconds, at least 1: in whole seconds `keep=0.5` would be 0, which Redis
        # refuses ("invalid expire time"), failing every write of a finished run.
        return max(1, math.ceil(self.keep * 1000))

    async def get(self, task_id: str) -> TaskInfo | None:
        """Return the record of `task_id`."""
        data = await self.redis.get(self._key(task_id))
        return None if data is None else TaskInfo.from_json(data)

    async def put(self, info: TaskInfo) -> None:
        """Write a record; a finished one expires after `keep` seconds."""
        ttl = self._ttl() if info.state in FINISHED else None
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._key(info.id), info.to_json(), px=ttl)
            pipe.zadd(f"{self.prefix}:index", {info.id: info.enqueued_at})
            await pipe.execute()

    async def create(self, info: TaskInfo) -> TaskInfo | None:
        """Write `info` unless its run has a record, in one round trip (a script).

        A script rather than `SET NX GET`, which needs Redis 7.
        """
        if self._create is None:
            self._create = self.redis.register_script(_CREATE)
        current = await self._create(
            keys=[self._key(info.id), f"{self.prefix}:index"],
            args=[info.to_json(), info.enqueued_at, info.id],
        )
        return None if not current else TaskInfo.from_json(current)

    async def list(self, limit: int) -> list[TaskInfo]:
        """Return the newest records first, dropping index entries whose record expired."""
        index = f"{self.prefix}:index"
        ids: Sequence[bytes] = await self.redis.zrevrange(index, 0, max(limit - 1, 0))
        if not ids:
            return []
        values = await self.redis.mget([self._key(i.decode()) for i in ids])
        gone = [i for i, value in zip(ids, values, strict=True) if value is None]
        if gone:
            await self.redis.zrem(index, *gone)
        return [TaskInfo.from_json(value) for value in values if value is not None]

    async def claim_key(self, key: str, task_id: str) -> str:
        """Reserve `key` for `keep` seconds unless another task holds it."""
        name = f"{self.prefix}:key:{key}"
        if await self.redis.set(name, task_id, nx=True, px=self._ttl()):
            return task_id
        holder = await self.redis.get(name)
        return task_id if holder is None else holder.decode()

    async def key_holder(self, key: str) -> str | None:
        """Return the id holding `key`, `None` if free."""
        holder = await self.redis.get(f"{self.prefix}:key:{key}")
        return None if holder is None else holder.decode()

    async def unsend(self, task_id: str, key: str | None) -> None:
        """Free `key` and drop the `queued` record of `task_id` in one round trip."""
        if self._unsend is None:
            self._unsend = self.redis.register_script(_UNSEND)
        await self._unsend(
            keys=[f"{self.prefix}:key:{key or ''}", self._key(task_id), f"{self.prefix}:index"],
            args=[task_id, "0" if key is None else "1"],
        )

    async def begin(self, info: TaskInfo, hold: float | None = None) -> TaskInfo | None:
        """Check and record the start of an attempt in one round trip (a script).

        With `hold`, the attempt is also held (`PREFIX:held:ID`, expiring after `hold`
        seconds unless `hold` renews it): a second message of the same attempt met while
        the hold lasts raises `HeldElsewhereError` instead of running it a second time.
        """
        if self._begin is None:
            self._begin = self.redis.register_script(_BEGIN)
        current = await self._begin(
            keys=[self._key(info.id), f"{self.prefix}:index", self._held(info.id)],
            args=[
                info.to_json(),
                info.attempts,
                info.enqueued_at,
                info.id,
                info.generation,
                _hold_token(info),
                _milliseconds(hold),
            ],
        )
        if current == b"held":
            raise HeldElsewhereError(info.id)
        return None if not current else TaskInfo.from_json(current)

    async def hold(self, info: TaskInfo, hold: float) -> None:
        """Renew this worker's hold on `info`'s attempt (if it still has it)."""
        if self._hold is None:
            self._hold = self.redis.register_script(_HOLD)
        await self._hold(keys=[self._held(info.id)], args=[_hold_token(info), _milliseconds(hold)])

    def _held(self, task_id: str) -> str:
        return f"{self.prefix}:held:{task_id}"


class LazyRedisStore(StateStore):
    """The Redis state store, on the transport's Redis connection once it is started."""

    def __init__(self, tasks: Tasks) -> None:
        self.tasks = tasks
        self.inner: RedisStateStore | None = None

    async def start(self) -> None:
        transport = self.tasks.transport  # Redis, or RabbitMQ with a Redis for state
        await transport.start(self.tasks.queues)
        redis = getattr(transport, "redis", None)
        if redis is None:
            raise TypeError(f"the Redis state store needs a transport with Redis: {transport!r}")
        self.inner = RedisStateStore(redis, self.tasks.prefix, self.tasks.keep)

    def _store(self) -> RedisStateStore:
        if self.inner is None:
            raise RuntimeError("the task state store is not started")
        return self.inner

    async def get(self, task_id: str) -> TaskInfo | None:
        return await self._store().get(task_id)

    async def put(self, info: TaskInfo) -> None:
        await self._store().put(info)

    async def create(self, info: TaskInfo) -> TaskInfo | None:
        return await self._store().create(info)

    async def list(self, limit: int) -> list[TaskInfo]:
        return await self._store().list(limit)

    async def claim_key(self, key: str, task_id: str) -> str:
        return await self._store().claim_key(key, task_id)

    async def key_holder(self, key: str) -> str | None:
        return await self._store().key_holder(key)

    async def unsend(self, task_id: str, key: str | None) -> None:
        await self._store().unsend(task_id, key)

    async def begin(self, info: TaskInfo, hold: float | None = None) -> TaskInfo | None:
        return await self._store().begin(info, hold)

    async def hold(self, info: TaskInfo, hold: float) -> None:
        await self._store().hold(info, hold)


def _milliseconds(seconds: float | None) -> int:
    return 0 if not seconds else max(1, math.ceil(seconds * 1000))


async def send_recorded(
    store: StateStore,
    message: dict[str, Any],
    record: Sequence[Awaitable[None]],
    sent: Awaitable[None],
    *,
    undo: bool,
) -> None:
    """Await the run's `record` and its message's send at once (two round trips in one).

    With `undo`, a send that fails drops the `queued` record and frees the key claim: a
    caller told to retry (a 503) does so with the same key, and a kept key would name a
    run that was never sent, so nothing would ever run. A send that succeeded keeps
    them, even if the record failed: that run is on its way.
    """
    *written, outcome = await asyncio.gather(*record, sent, return_exceptions=True)
    if isinstance(outcome, Exception) and undo:
        await unsend(store, message)
    for result in (outcome, *written):
        if isinstance(result, BaseException):
            raise result


async def unsend(store: StateStore, message: dict[str, Any]) -> None:
    """Drop the record of a run that was not sent and free its key claim, if the store can.

    Briefly: a stalled Redis must not double the wait for the caller's 503. When the
    store does not answer either, the key expires with `keep`.
    """
    try:
        with anyio.fail_after(0.5):
            await store.unsend(message["id"], message["key"])
    except Exception as exc:  # logged; the caller raises the send's error
        from trivium.tasks._outage import is_outage

        # An outage is logged once by the caller's 503; anything else is a bug.
        logger.log(
            logging.DEBUG if is_outage(exc) else logging.WARNING,
            "task %s (%s) was not sent, and its record could not be dropped",
            message["task"],
            message["id"],
            exc_info=not is_outage(exc),
        )
