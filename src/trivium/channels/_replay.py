"""What a resuming client missed: the replay shared by event streams and websockets.

A client that comes back with the id of the last event it got first gets the kept
events after that id, then the live ones, skipping the live events the replay already
sent. An id the history does not know (trimmed away, or ahead of its newest event: an
id from another Redis, a Redis restored from an older dump, a skewed clock) starts the
replay with a `resync`, and live events are then not filtered by it: filtering by an id
ahead of the stream would drop every live event without a word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trivium.channels._event import Event
from trivium.channels._event import stream_id_key

if TYPE_CHECKING:
    from trivium.channels._channels import Channels

__all__ = ["StreamKey", "missed_events"]

StreamKey = tuple[int, int]
"""The sortable key of a stream id (see `stream_id_key`)."""


async def missed_events(
    channels: Channels, channel: str, after: str
) -> tuple[list[Event], StreamKey | None]:
    """Return the events to replay after the id `after`, and the key of the last one sent.

    Live events at or below the returned key were sent by the replay: skip them. The key
    is `None` when the replay sent no kept event and `after` is unknown to the history.
    A trailing `resync` says that more were missed than `queue_limit` lets through.
    """
    limit = channels.queue_limit
    missed = await channels.history_after(channel, after, limit)
    known = not missed or missed[0].kind != "resync"
    last = stream_id_key(after) if known else None
    kept = [event.id for event in missed if event.id is not None]
    if kept:
        last = stream_id_key(kept[-1])
    if len(kept) == limit:
        missed.append(Event.resync(None, channel))  # there may be more than we sent
    return missed, last
