"""Where limits keep their state: this process's memory, or Redis shared by every worker.

Both run GCRA over several limits at once and atomically: every limit of a request is
checked, and only when all of them let it through is any of them charged, so a refused
request spends nothing. In memory that holds because the check never awaits; in Redis
it is one Lua script (`EVALSHA`, one round trip) that reads the clock with `TIME`, so
workers on different hosts agree on time without synchronised clocks.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol

from trivium.ratelimit._limit import Decision
from trivium.ratelimit._limit import RateLimit
from trivium.ratelimit._limit import Usage
from trivium.stores import pipelined_channel

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Backend", "MemoryBackend", "RedisBackend", "decide"]


class Backend(Protocol):
    """Check and charge several limits' keys atomically."""

    def hit(self, limits: Sequence[RateLimit], keys: Sequence[str]) -> Awaitable[Decision]:
        """Charge every limit for its key if all allow it; say what happened (awaited)."""
        ...

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget the given keys' state."""
        ...


_tuple = tuple.__new__
_monotonic_ns = time.monotonic_ns


def decide(limits: Sequence[RateLimit], now: int, tats: Sequence[int]) -> Decision:
    """Return the decision for `limits` whose keys' arrival times are `tats`.

    Times are in microseconds; each arrival time is at least `now`.
    """
    if len(limits) == 1:  # the usual case, without the generality
        limit, tat = limits[0], tats[0]
        after = tat + limit.step
        if after - now <= limit.capacity:
            remaining = (limit.capacity - after + now) // limit.interval
            # The named tuples built as plain tuples: half the cost of their `__new__`.
            usage = _tuple(Usage, (limit, remaining, (after - now) / 1e6, 0.0))
            return _tuple(Decision, (True, (usage,), False))
        retry = (after - limit.capacity - now) / 1e6
        remaining = max(0, (limit.capacity - tat + now) // limit.interval)
        return Decision(False, (Usage(limit, remaining, (tat - now) / 1e6, retry),))
    allowed = all(
        tat + limit.step - now <= limit.capacity for limit, tat in zip(limits, tats, strict=True)
    )
    usages = []
    for limit, tat in zip(limits, tats, strict=True):
        after = tat + limit.step if allowed else tat
        ahead = after - now  # how much of the budget is spent, in microseconds
        remaining = max(0, (limit.capacity - ahead) // limit.interval)
        retry = 0 if allowed else max(0, tat + limit.step - limit.capacity - now)
        usages.append(Usage(limit, int(remaining), ahead / 1e6, retry / 1e6))
    return Decision(allowed, tuple(usages))


class MemoryBackend:
    """Limits kept in this process (development, tests, single-process servers)."""

    __slots__ = ("_checks", "_tats")

    def __init__(self) -> None:
        self._tats: dict[str, int] = {}
        self._checks = 0

    async def hit(self, limits: Sequence[RateLimit], keys: Sequence[str]) -> Decision:
        """Charge every limit for its key if all allow it (no await: atomic on the loop)."""
        return self.hit_now(limits, keys)

    def hit_now(self, limits: Sequence[RateLimit], keys: Sequence[str]) -> Decision:
        """`hit`, without a coroutine: the memory check never waits."""
        if len(keys) == 1:  # the usual case, without the generality
            return self.hit_one(limits[0], keys[0])
        now = _monotonic_ns() // 1000
        tats = [max(now, self._tats.get(key, now)) for key in keys]
        decision = decide(limits, now, tats)
        if decision.allowed:
            for limit, key, tat in zip(limits, keys, tats, strict=True):
                self._tats[key] = tat + limit.step
        self._checks += 1
        if self._checks >= 10_000:
            self._sweep(now)
        return decision

    def hit_one(self, limit: RateLimit, key: str) -> Decision:
        """`hit_now` for one limit: a route's usual case, inline (it runs on every request)."""
        now = _monotonic_ns() // 1000
        tats = self._tats
        tat = tats.get(key, now)
        if tat < now:
            tat = now
        after = tat + limit.step
        if after - now > limit.capacity:
            return decide((limit,), now, (tat,))
        tats[key] = after
        self._checks += 1
        if self._checks >= 10_000:
            self._sweep(now)
        remaining = (limit.capacity - after + now) // limit.interval
        # The named tuples built as plain tuples: half the cost of their `__new__`.
        usage = _tuple(Usage, (limit, remaining, (after - now) / 1e6, 0.0))
        return _tuple(Decision, (True, (usage,), False))

    def _sweep(self, now: int) -> None:
        # A key whose arrival time has passed is the same as a missing one.
        self._checks = 0
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now}

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget the given keys."""
        for key in keys:
            self._tats.pop(key, None)

    def reset_all(self) -> None:
        """Forget every key (tests)."""
        self._tats.clear()

    def __len__(self) -> int:
        return len(self._tats)


# KEYS: one per limit. ARGV: "interval capacity cost" per limit (microseconds), then
# how many identical requests to charge, one after the other (1 when absent).
# Returns how many were admitted followed by how far each key's arrival time (at least
# now) ran ahead of now before them; for a single request on one key, just that
# distance (few arguments and a short reply keep redis-py's cost low). Keys are written
# only for admitted requests, and a request is admitted only if every limit allows it.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[#KEYS + 1] or '1')
local ahead, steps, capacities = {}, {}, {}
for i = 1, #KEYS do
  local interval, capacity, cost = string.match(ARGV[i], '(%d+) (%d+) (%d+)')
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  ahead[i] = tat - now
  steps[i] = tonumber(interval) * tonumber(cost)
  capacities[i] = tonumber(capacity)
end
local admitted = 0
while admitted < n do
  local fits = true
  for i = 1, #KEYS do
    if ahead[i] + (admitted + 1) * steps[i] > capacities[i] then fits = false end
  end
  if not fits then break end
  admitted = admitted + 1
end
if admitted > 0 then
  for i = 1, #KEYS do
    local after = ahead[i] + admitted * steps[i]
    redis.call('SET', KEYS[i], string.format('%.0f', now + after), 'PX', math.ceil(after / 1000) + 1)
  end
end
if n == 1 and #KEYS == 1 then return ahead[1] end
local reply = {admitted}
for i = 1, #KEYS do reply[i + 1] = ahead[i] end
return reply
"""

_Group = tuple["Sequence[RateLimit]", "list[asyncio.Future[Decision]]"]


class RedisBackend:
    """Limits kept in Redis, exact across every worker process on every host.

    Checks made while a round trip is under way are sent together as the next one (a
    pipeline of `EVALSHA`s, each atomic on its own), and identical checks (same limits,
    same keys: one client hammering a route) become one script run that charges them
    one after the other, so a busy worker pays one round trip for many requests instead
    of one each, never waits on the loop, and counts exactly as one call per request.
    """

    __slots__ = ("_channel", "_flusher", "_pending", "_sha", "client", "errors", "prefix")

    def __init__(self, client: Redis, prefix: str) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self.client = client
        """The `redis.asyncio.Redis` client."""
        self.prefix = prefix
        """Put before every key."""
        self._sha = hashlib.sha1(_SCRIPT.encode(), usedforsecurity=False).hexdigest()
        self._pending: dict[tuple[Any, ...], _Group] = {}
        self._channel = pipelined_channel(client)
        self._flusher: asyncio.Task[None] | None = None
        self.errors: tuple[type[BaseException], ...] = (
            RedisConnectionError,
            RedisTimeoutError,
            OSError,
        )
        """The exceptions that mean Redis is unreachable."""

    def hit(self, limits: Sequence[RateLimit], keys: Sequence[str]) -> asyncio.Future[Decision]:
        """Charge every limit for its key if all allow it: one script run in Redis.

        Returns the future of the decision (no coroutine of its own: it runs per request).
        """
        if len(keys) == 1:  # the usual case, without building generators
            args: tuple[Any, ...] = (self.prefix + keys[0], limits[0].script_args)
        else:
            args = (*[self.prefix + key for key in keys], *[limit.script_args for limit in limits])
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Decision] = loop.create_future()
        group = self._pending.get(args)
        if group is None:
            self._pending[args] = (limits, [future])
        else:
            group[1].append(future)
        flusher = self._flusher
        if flusher is None or flusher.done() or flusher.get_loop() is not loop:
            self._flusher = loop.create_task(self._flush())
        return future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = list(self._pending.items()), {}
            try:
                replies = await self._run(batch)
            except BaseException as exc:
                for _, (_, futures) in batch:
                    _fail(futures, exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, (limits, futures)), reply in zip(batch, replies, strict=True):
                if isinstance(reply, Exception):
                    _fail(futures, reply)
                else:
                    _settle(limits, futures, reply)

    async def _run(self, batch: list[tuple[tuple[Any, ...], _Group]]) -> list[Any]:
        from redis.exceptions import NoScriptError

        replies = await self._pipeline(batch)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:  # a new or flushed Redis: load the script, run those again (none ran)
            await self.client.script_load(_SCRIPT)
            again = await self._pipeline([batch[i] for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    async def _pipeline(self, batch: list[tuple[tuple[Any, ...], _Group]]) -> list[Any]:
        if self._channel is not None:
            commands = [
                ("EVALSHA", self._sha, len(limits), *args)
                if len(futures) == 1
                else ("EVALSHA", self._sha, len(limits), *args, len(futures))
                for args, (limits, futures) in batch
            ]
            return [_reply(reply) for reply in await self._channel.execute(commands)]
        async with self.client.pipeline(transaction=False) as pipe:
            for args, (limits, futures) in batch:
                if len(futures) == 1:
                    pipe.evalsha(self._sha, len(limits), *args)
                else:
                    pipe.evalsha(self._sha, len(limits), *args, len(futures))
            return list(await pipe.execute(raise_on_error=False))

    def close(self) -> None:
        """Close the channel's connection (the client's pool is its owner's to close)."""
        if self._channel is not None:
            self._channel.close()

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget the given keys."""
        if keys:
            await self.client.delete(*(self.prefix + key for key in keys))


def _reply(reply: Any) -> Any:
    """A channel's reply as redis-py would give it (errors as its exception classes)."""
    if not isinstance(reply, Exception):
        return reply
    from redis.exceptions import NoScriptError
    from redis.exceptions import ResponseError

    text = str(reply)
    return NoScriptError(text) if text.startswith("NOSCRIPT") else ResponseError(text)


def _settle(
    limits: Sequence[RateLimit], futures: list[asyncio.Future[Decision]], reply: Any
) -> None:
    """Give each request of a group its decision: the first `admitted` passed, in order."""
    if isinstance(reply, int):
        admitted, ahead = -1, [reply]  # one request: decide() says whether it passed
    else:
        admitted, *ahead = (int(value) for value in reply)
    steps = [limit.step for limit in limits]
    single = len(steps) == 1  # the usual case: no list per request
    for index, future in enumerate(futures):
        if future.done():
            continue  # its request went away; the charge stands
        spent = index if admitted < 0 or index < admitted else admitted
        if single:
            counts: Sequence[int] = (ahead[0] + spent * steps[0],)
        else:
            counts = [a + spent * s for a, s in zip(ahead, steps, strict=True)]
        future.set_result(decide(limits, 0, counts))


def _fail(futures: list[asyncio.Future[Decision]], error: BaseException) -> None:
    for future in futures:
        if future.done():
            continue
        if isinstance(error, Exception):
            future.set_exception(error)
        else:
            future.cancel()
