"""Event streams bound to a channel, resumable with `Last-Event-ID` when it keeps history.

The stream subscribes first, then sends what the client missed from the channel's
history (the events after its `Last-Event-ID`), then the live events, skipping any it
already sent from the history: nothing is lost or repeated between the two. An id the
history does not know (trimmed away, or ahead of the stream) gets a `resync` first and
then every live event (see `_replay`). When the
subscriber misses events later (it fell behind, or Redis was unreachable) on a channel
with history, the stream ends instead of sending a `resync` event: the browser
reconnects at once with its `Last-Event-ID` and gets exactly what it missed. So it does
when the history cannot be read as the stream starts (Redis is down): the stream waits
for Redis, then ends, and the reconnection replays; a 503 instead would close the
browser's `EventSource` for good. A `: subscribed` comment goes out as soon as the
subscription holds, which also gets the headers past buffering proxies at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from collections.abc import Mapping
from typing import TYPE_CHECKING

from trivium.channels._event import ChannelsUnavailableError
from trivium.channels._event import check_channel
from trivium.channels._event import stream_id_key
from trivium.channels._replay import missed_events
from trivium.errors import HTTPException
from trivium.responses import EventSourceResponse
from trivium.responses import ServerSentEvent

if TYPE_CHECKING:
    from trivium.channels._channels import Channels
    from trivium.http import Request

__all__ = ["event_stream"]

_RETRY = 200
"""Milliseconds before the browser reconnects to a stream that ended to resume."""


async def event_stream(
    channels: Channels,
    request: Request,
    channel: str,
    *,
    ping: float | None = 15.0,
    headers: Mapping[str, str] | None = None,
) -> EventSourceResponse:
    """Return an `EventSourceResponse` of `channel`'s events for `request`.

    Messages are events without an `event:` line (the browser's `onmessage`); `resync`,
    `join` and `leave` come as events of those types. `Cache-Control: no-cache` and
    `X-Accel-Buffering: no` are set; `ping` is the keep-alive interval.

    Raises:
        ChannelForbiddenError: the `authorize` hook refused the channel (403).
        HTTPException: 400, the `Last-Event-ID` is not an id of this channel's events.
        InvalidChannelError: the channel name is invalid (400; 1008 on a websocket).
    """
    check_channel(channel)
    await channels.authorize(request, channel)
    after = request.headers.get("last-event-id") or None
    if after is not None and channels.keeps(channel):
        if stream_id_key(after) is None:
            raise HTTPException(
                400, f"Last-Event-ID {after[:50]!r} is not an event id of this stream"
            )
    else:
        after = None
    return EventSourceResponse(_events(channels, channel, after), ping=ping, headers=headers)


async def _events(channels: Channels, channel: str, after: str | None) -> AsyncIterator[object]:
    async with channels.subscribe(channel) as subscription:
        yield ServerSentEvent(comment="subscribed")
        last = None
        if after is not None:
            try:
                missed, last = await missed_events(channels, channel, after)
            except ChannelsUnavailableError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from None  # redis-py swallowed the client leaving
                # Redis is unreachable. A 503 would close an EventSource for good (browsers
                # reconnect after a dropped stream, not after an error status), so wait
                # like every subscriber, then end the stream: the browser reconnects with
                # the same Last-Event-ID and gets exactly what it missed.
                if not channels.ready:
                    # The listener's resync once Redis is back (any event: Redis answers).
                    await subscription.get()
                # Else the listener has seen no outage and may send no resync (a stall it
                # has not noticed yet, a glitch of the publishers' connection): retry soon.
                yield ServerSentEvent(
                    comment="history unreachable: reconnect to resume", retry=_RETRY
                )
                return
            for event in missed:  # a leading `resync` when the id is unknown to the history
                yield event.sse()
        async for event in subscription:
            if event.kind == "resync" and last is not None:
                # The channel keeps history and the client has an id: end the stream, and
                # the browser reconnects with Last-Event-ID and gets exactly what it missed.
                yield ServerSentEvent(comment="missed events: reconnect to resume", retry=_RETRY)
                return
            if event.id is not None:
                key = stream_id_key(event.id)
                if key is not None:
                    if last is not None and key <= last:
                        continue
                    last = key
            yield event.sse()
