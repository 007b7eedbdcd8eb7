"""The backend protocol, and `MemoryBackend`: channels inside one process.

A backend carries events between processes; `Channels` fans them out to the local
subscribers. It is told when this process gains its first subscriber of a channel
(`subscribe`) and loses its last one (`unsubscribe`), so a process holds one backend
subscription per channel however many local subscribers it has, and a publication costs
one delivery per process, not one per subscriber.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from collections.abc import Sequence
from typing import Protocol

from trivium.channels._event import Event
from trivium.channels._event import EventKind
from trivium.channels._event import stream_id_key

__all__ = ["Backend", "Deliver", "Entry", "Member", "MemoryBackend"]

Deliver = Callable[[Event], None]
"""Hands an event that arrived for a channel to its local subscribers."""
Member = tuple[str, bytes]
"""A present connection: its key and its member data (JSON)."""
Entry = tuple[str, str, bytes]
"""A heartbeat: the channel, the connection's key and its member data (JSON)."""


class Backend(Protocol):
    """Carries events between processes (see the module docstring)."""

    ready: bool
    """Whether events flow (for readiness checks); `False` while the backend is down."""

    async def start(self, deliver: Deliver, gap: Callable[[], None]) -> None:
        """Start receiving; `gap()` is called when events may have been missed."""
        ...

    async def stop(self) -> None:
        """Stop receiving and release connections."""
        ...

    async def subscribe(self, channel: str) -> None:
        """Receive the channel's events in this process."""
        ...

    async def unsubscribe(self, channel: str) -> None:
        """Stop receiving the channel's events in this process."""
        ...

    async def publish(self, channel: str, kind: EventKind, raw: bytes, keep: int) -> str | None:
        """Send an event to every process; keep the last `keep` in history (0: none).

        Returns:
            The event's stream id when it is kept in history, else `None`.
        """
        ...

    async def history(self, channel: str, after: str, limit: int) -> list[Event]:
        """Return up to `limit` kept events published after the id `after`, oldest first.

        When `after` is not known to the history, events after it may be lost: the list
        then starts with a `resync` event. That is so when it is no longer kept (trimmed
        away), when nothing is kept, and when it is ahead of the newest kept event (an id
        from another Redis, a Redis restored from an older dump, a skewed clock).
        """
        ...

    async def listen(self) -> None:
        """Receive events from other processes until cancelled (run in a task)."""
        ...

    async def beat(self, entries: Sequence[Entry], ttl: float) -> None:
        """Mark each entry's connection present in its channel for `ttl` seconds.

        The first beat of a connection publishes a `join` event with its member data.
        """
        ...

    async def leave(self, channel: str, key: str) -> None:
        """Remove the connection `key` from `channel` (publishing `leave` if it was there)."""
        ...

    async def sweep(self) -> None:
        """Remove members whose heartbeat expired, publishing a `leave` for each."""
        ...

    async def members(self, channel: str) -> Sequence[Member]:
        """Return the channel's present members."""
        ...


class MemoryBackend:
    """Deliver events within this process: the default, for development and one worker.

    History (for channels configured to keep some) and presence live in this process's
    memory too; with several worker processes use `RedisBackend`.
    """

    ready = True

    def __init__(self) -> None:
        self._deliver: Deliver | None = None
        self._kept: dict[str, deque[Event]] = {}
        self._last = (0, 0)
        self._present: dict[str, dict[str, tuple[bytes, float]]] = {}

    def __repr__(self) -> str:
        return "MemoryBackend()"

    async def start(self, deliver: Deliver, gap: Callable[[], None]) -> None:
        """Deliver published events to `deliver` (an in-process backend never has gaps)."""
        del gap
        self._deliver = deliver

    async def stop(self) -> None:
        """Stop delivering."""
        self._deliver = None

    async def subscribe(self, channel: str) -> None:
        """Nothing to do: every event published in this process is delivered."""

    async def unsubscribe(self, channel: str) -> None:
        """Nothing to do."""

    def _next_id(self) -> str:
        now = int(time.time() * 1000)
        millis, seq = self._last
        self._last = (now, 0) if now > millis else (millis, seq + 1)
        return "{}-{}".format(*self._last)

    async def publish(self, channel: str, kind: EventKind, raw: bytes, keep: int) -> str | None:
        """Deliver the event at once; keep it in history when `keep` > 0."""
        event_id = self._next_id() if keep else None
        event = Event(channel, raw, kind, event_id)
        if keep:
            kept = self._kept.get(channel)
            if kept is None or kept.maxlen != keep:
                kept = self._kept[channel] = deque(kept or (), maxlen=keep)
            kept.append(event)
        if self._deliver is not None:
            self._deliver(event)
        return event_id

    async def history(self, channel: str, after: str, limit: int) -> list[Event]:
        """Return kept events after the id `after` (a leading `resync` if it is unknown)."""
        start = stream_id_key(after) or (0, 0)
        kept = self._kept.get(channel, ())
        newer = [e for e in kept if e.id is not None and (stream_id_key(e.id) or start) > start]
        if not kept or not _within(kept[0], kept[-1], start):
            return [Event.resync(None, channel), *newer[:limit]]
        return newer[:limit]

    async def listen(self) -> None:
        """Nothing to receive: publications are delivered as they are made."""

    async def beat(self, entries: Sequence[Entry], ttl: float) -> None:
        """Mark the connections present; new ones publish `join`."""
        for channel, key, member in entries:
            present = self._present.setdefault(channel, {})
            new = key not in present
            present[key] = (member, time.monotonic() + ttl)
            if new:
                await self.publish(channel, "join", member, 0)

    async def leave(self, channel: str, key: str) -> None:
        """Remove `key`; publishes `leave` if it was present."""
        entry = self._present.get(channel, {}).pop(key, None)
        if entry is not None:
            await self.publish(channel, "leave", entry[0], 0)

    async def sweep(self) -> None:
        """Remove members whose heartbeat expired."""
        now = time.monotonic()
        for channel, present in list(self._present.items()):
            for key in [k for k, (_, expires) in present.items() if expires <= now]:
                await self.leave(channel, key)

    async def members(self, channel: str) -> Sequence[Member]:
        """Return the channel's present members."""
        return [(key, member) for key, (member, _) in self._present.get(channel, {}).items()]


def _within(oldest: Event, newest: Event, key: tuple[int, int]) -> bool:
    """Whether the stream key `key` lies between the oldest and the newest kept event."""
    first = stream_id_key(oldest.id or "")
    last = stream_id_key(newest.id or "")
    return first is not None and last is not None and first <= key <= last
