"""`Subscription`: one subscriber's bounded queue of events from one or more channels.

The queue never grows past its limit. When it is full the subscriber has fallen behind:
from then on events are counted instead of queued until it has read everything queued,
and then it receives one `resync` event carrying the count, so it knows exactly that
(and how much) it missed, and can reload its state. Events after the resync arrive
normally again. Nothing is dropped without a resync event saying so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from collections.abc import Coroutine
from typing import Any

import anyio

from trivium.channels._event import Event
from trivium.channels._event import check_channel

__all__ = ["Subscription"]

Hook = Callable[["Subscription", str], Coroutine[Any, Any, None]]


class Subscription:
    """Events from the channels it is subscribed to, in publication order per channel.

    Made by `Channels.subscribe`; iterate over it (`async for event in subscription`) or
    call `get()`. Subscribe to more channels, or leave some, while it runs.
    """

    __slots__ = (
        "_add",
        "_behind",
        "_closed",
        "_dropped",
        "_queue",
        "_remove",
        "_unknown",
        "_wakeup",
        "channels",
        "limit",
    )

    def __init__(self, limit: int, add: Hook, remove: Hook) -> None:
        self.limit = limit
        """The most events queued before the subscriber counts as behind."""
        self.channels: set[str] = set()
        """The channels subscribed to."""
        self._queue: deque[Event] = deque()
        self._behind = False
        self._dropped = 0
        self._unknown = False
        self._closed = False
        self._wakeup: anyio.Event | None = None
        self._add = add
        self._remove = remove

    @property
    def pending(self) -> int:
        """How many events wait in the queue."""
        return len(self._queue)

    def put(self, event: Event) -> None:
        """Queue `event`, or count it as dropped when the subscriber is behind."""
        if self._behind:
            self._dropped += 1
        elif len(self._queue) >= self.limit:
            self._behind = True
            self._dropped = 1
        else:
            self._queue.append(event)
        self._wake()

    def gap(self) -> None:
        """Note that events may have been missed (a backend outage): queue a resync."""
        if self._behind:
            self._unknown = True
        else:
            self._queue.append(Event.resync(None))
        self._wake()

    def close(self) -> None:
        """End the iteration once the queued events are read."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    async def get(self) -> Event:
        """Wait for the next event.

        Raises:
            StopAsyncIteration: the subscription was closed and its queue is empty.
        """
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._behind:
                dropped = None if self._unknown else self._dropped
                self._behind, self._dropped, self._unknown = False, 0, False
                return Event.resync(dropped)
            if self._closed:
                raise StopAsyncIteration
            self._wakeup = wakeup = anyio.Event()
            await wakeup.wait()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        return await self.get()

    async def subscribe(self, *channels: str) -> None:
        """Add channels; events published from now on reach this subscription.

        Raises:
            InvalidChannelError: a channel name is invalid (400; 1008 on a websocket).
        """
        for channel in map(check_channel, channels):
            if channel not in self.channels:
                self.channels.add(channel)
                await self._add(self, channel)

    async def unsubscribe(self, *channels: str) -> None:
        """Leave channels (events already queued from them stay queued)."""
        for channel in channels:
            if channel in self.channels:
                self.channels.discard(channel)
                await self._remove(self, channel)

    def __repr__(self) -> str:
        return f"Subscription(channels={sorted(self.channels)!r}, pending={len(self._queue)})"
