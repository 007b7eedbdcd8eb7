"""`MemoryStore`: a process-local store for development, tests and single-process apps.

Entries live in an insertion-ordered dict used as an LRU list: a read moves the key to
the end, and when the store is full the least recently used entry goes first. Expired
entries are dropped when read and, a few at a time, when new keys are written, so memory
stays bounded without a background task. Nothing here is shared between processes: use
`RedisStore` or `DatabaseStore` once the app runs more than one worker.
"""

from __future__ import annotations

import time
from itertools import islice

from trivium.errors import ConfigurationError
from trivium.stores._base import check_ttl
from trivium.stores._base import check_value

__all__ = ["MemoryStore"]

_Entry = tuple[bytes, float | None]


class MemoryStore:
    """Keep keys in this process's memory, with expiry and a bounded size.

    Args:
        max_entries: most keys kept; beyond it the least recently used key is evicted.

    Raises:
        ConfigurationError: `max_entries` is not a positive integer (`store-max-entries`).
    """

    __slots__ = ("_data", "max_entries")

    def __init__(self, max_entries: int = 100_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError(
                f"MemoryStore max_entries must be a positive integer, not {max_entries!r}",
                "store-max-entries",
            )
        self.max_entries = max_entries
        """Most keys kept before the least recently used one is evicted."""
        self._data: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"MemoryStore(max_entries={self.max_entries})"

    def _live(self, key: str, now: float) -> _Entry | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires = entry[1]
        if expires is not None and expires <= now:
            del self._data[key]
            return None
        return entry

    def _put(self, key: str, entry: _Entry, now: float) -> None:
        data = self._data
        data.pop(key, None)
        if len(data) >= self.max_entries:
            self._evict(now)
        data[key] = entry

    def _evict(self, now: float) -> None:
        data = self._data
        # Drop the expired among the oldest few first; else the least recently used.
        oldest = list(islice(data.items(), 16))
        expired = [k for k, (_, exp) in oldest if exp is not None and exp <= now]
        for key in expired:
            del data[key]
        while len(data) >= self.max_entries:
            del data[next(iter(data))]

    async def get(self, key: str) -> bytes | None:
        """Return the value under `key`, or `None` when missing or expired."""
        entry = self._live(key, time.monotonic())
        if entry is None:
            return None
        # Move to the end: most recently used.
        del self._data[key]
        self._data[key] = entry
        return entry[0]

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store `value` under `key` for `ttl` seconds (`None`: until evicted)."""
        check_value(value)
        check_ttl(ttl)
        now = time.monotonic()
        self._put(key, (bytes(value), None if ttl is None else now + ttl), now)

    async def delete(self, key: str) -> None:
        """Remove `key` if present."""
        self._data.pop(key, None)

    async def incr(self, key: str, ttl: float) -> int:
        """Add one to the counter under `key`; a new counter expires after `ttl` seconds."""
        check_ttl(ttl)
        now = time.monotonic()
        entry = self._live(key, now)
        if entry is None:
            self._put(key, (b"1", now + ttl), now)
            return 1
        try:
            count = int(entry[0]) + 1
        except ValueError:
            raise ValueError(f"the value under {key!r} is not a counter") from None
        self._put(key, (str(count).encode(), entry[1]), now)
        return count

    async def clear(self) -> None:
        """Remove every key."""
        self._data.clear()

    async def close(self) -> None:
        """Do nothing: a memory store holds no connections."""
