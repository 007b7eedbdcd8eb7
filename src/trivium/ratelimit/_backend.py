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
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol

from trivium.ratelimit._limit import Decision
from trivium.ratelimit._limit import RateLimit
from trivium.ratelimit._limit import Usage

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Backend", "MemoryBackend", "RedisBackend", "decide"]


class Backend(Protocol):
    """Check and charge several limits' keys atomically."""

    async def hit(self, limits: Sequence[RateLimit], keys: Sequence[str]) -> Decision:
        """Charge every limit for its key if all allow it; say what happened."""
        ...

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget the given keys' state."""
        ...


def decide(limits: Sequence[RateLimit], now: int, tats: Sequence[int]) -> Decision:
    """Return the decision for `limits` whose keys' arrival times are `tats`.

    Times are in microseconds; each arrival time is at least `now`.
    """
    if len(limits) == 1:  # the usual case, without the generality
        limit, tat = limits[0], tats[0]
        after = tat + limit.interval * limit.cost
        if after - now <= limit.capacity:
            remaining = (limit.capacity - after + now) // limit.interval
            return Decision(True, (Usage(limit, remaining, (after - now) / 1e6, 0.0),))
        retry = (after - limit.capacity - now) / 1e6
        remaining = max(0, (limit.capacity - tat + now) // limit.interval)
        return Decision(False, (Usage(limit, remaining, (tat - now) / 1e6, retry),))
    allowed = all(
        tat + limit.interval * limit.cost - now <= limit.capacity
        for limit, tat in zip(limits, tats, strict=True)
    )
    usages = []
    for limit, tat in zip(limits, tats, strict=True):
        after = tat + limit.interval * limit.cost if allowed else tat
        ahead = after - now  # how much of the budget is spent, in microseconds
        remaining = max(0, (limit.capacity - ahead) // limit.interval)
        retry = 0 if allowed else max(0, tat + limit.interval * limit.cost - limit.capacity - now)
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
        now = time.monotonic_ns() // 1000
        tats = [max(now, self._tats.get(key, now)) for key in keys]
        decision = decide(limits, now, tats)
        if decision.allowed:
            for limit, key, tat in zip(limits, keys, tats, strict=True):
                self._tats[key] = tat + limit.interval * limit.cost
        self._checks += 1
        if self._checks >= 10_000:
            self._sweep(now)
        return decision

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


# KEYS: one per limit. ARGV: "interval capacity cost" per limit (microseconds).
# Returns how far each key's arrival time (at least now) runs ahead of now, before this
# request: one integer for one limit, else a list. The keys are written only when every
# limit allows the request. Few arguments and a short reply keep the client's cost low.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ahead, steps, capacities = {}, {}, {}
local allowed = true
for i = 1, #KEYS do
  local interval, capacity, cost = string.match(ARGV[i], '(%d+) (%d+) (%d+)')
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  ahead[i] = tat - now
  steps[i] = tonumber(interval) * tonumber(cost)
  if ahead[i] + steps[i] > tonumber(capacity) then allowed = false end
end
if allowed then
  for i = 1, #KEYS do
    local after = ahead[i] + steps[i]
    redis.call('SET', KEYS[i], string.format('%.0f', now + after), 'PX', math.ceil(after / 1000) + 1)
  end
end
if #KEYS == 1 then return ahead[1] end
return ahead
"""


class RedisBackend:
    """Limits kept in Redis, exact across every worker process on every host.

    Checks made while a round trip is under way are sent together as the next one (a
    pipeline of `EVALSHA`s, each still atomic on its own), so a busy worker pays one
    round trip for many requests instead of one each, and never waits on the loop.
    """

    __slots__ = ("_flusher", "_pending", "_sha", "client", "errors", "prefix")

    def __init__(self, client: Redis, prefix: str) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self.client = client
        """The `redis.asyncio.Redis` client."""
        self.prefix = prefix
        """Put before every key."""
        self._sha = hashlib.sha1(_SCRIPT.encode(), usedforsecurity=False).hexdigest()
        self._pending: list[tuple[Sequence[RateLimit], list[Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.errors: tuple[type[BaseException], ...] = (
            RedisConnectionError,
            RedisTimeoutError,
            OSError,
        )
        """The exceptions that mean Redis is unreachable."""

    async def hit(self, limits: Sequence[RateLimit], keys: Sequence[str]) -> Decision:
        """Charge every limit for its key if all allow it: one script run in Redis."""
        args: list[Any] = [self.prefix + key for key in keys]
        args += (limit.script_args for limit in limits)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((limits, args, future))
        flusher = self._flusher
        if flusher is None or flusher.done() or flusher.get_loop() is not loop:
            self._flusher = loop.create_task(self._flush())
        reply = await future
        return decide(limits, 0, [reply] if isinstance(reply, int) else reply)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                replies = await self._run(batch)
            except BaseException as exc:
                for _, _, future in batch:
                    if future.done():
                        continue
                    if isinstance(exc, Exception):
                        future.set_exception(exc)
                    else:
                        future.cancel()
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, _, future), reply in zip(batch, replies, strict=True):
                if future.done():
                    continue
                if isinstance(reply, Exception):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)

    async def _run(self, batch: list[tuple[Sequence[RateLimit], list[Any], Any]]) -> list[Any]:
        from redis.exceptions import NoScriptError

        replies = await self._pipeline(batch)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:  # a new or flushed Redis: load the script, run those again (none ran)
            await self.client.script_load(_SCRIPT)
            again = await self._pipeline([batch[i] for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    async def _pipeline(self, batch: list[tuple[Sequence[RateLimit], list[Any], Any]]) -> list[Any]:
        async with self.client.pipeline(transaction=False) as pipe:
            for limits, args, _ in batch:
                pipe.evalsha(self._sha, len(limits), *args)
            return list(await pipe.execute(raise_on_error=False))

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget the given keys."""
        if keys:
            await self.client.delete(*(self.prefix + key for key in keys))
