"""What subscribers receive: `Event`, and the checks and errors shared by the backends.

A published value is encoded to JSON once, by the publisher; every process and every
subscriber shares that encoding. An event decodes its data only when asked (`data`) and
frames itself for a websocket or an event stream at most once, however many local
subscribers receive it: fan-out costs a queue append per subscriber, not an encoding.
"""

from __future__ import annotations

import re
from typing import Any
from typing import Literal

import orjson

from trivium.encoders import jsonable_encoder
from trivium.errors import HTTPException
from trivium.errors import ServiceUnavailable
from trivium.responses import ServerSentEvent

__all__ = [
    "ChannelForbiddenError",
    "ChannelsUnavailableError",
    "Event",
    "EventKind",
    "InvalidChannelError",
    "check_channel",
    "encode",
    "stream_id_key",
]

EventKind = Literal["message", "resync", "join", "leave"]
"""`message`: a published value; `resync`: the subscriber missed events (`dropped` says
how many, `None` when unknown); `join`/`leave`: a presence change (`data` is the member)."""

_CHANNEL = re.compile(r"[\x21-\x7e]{1,200}")
_STREAM_ID = re.compile(r"(\d{1,20})-(\d{1,20})")


class ChannelsUnavailableError(ServiceUnavailable):
    """503: the channels backend (Redis) cannot be reached; nothing was published.

    Raised by `Channels.publish` and the presence calls while Redis is down, instead of
    the client library's error (kept in `__cause__`); in a handler it becomes a 503 with
    `Retry-After`, elsewhere (tasks, commands) the caller decides whether to retry.
    """


class ChannelForbiddenError(HTTPException):
    """403: the app's `authorize` hook refused this connection the channel.

    Raised by `ChannelSocket.subscribe` and `Channels.event_source`; in a websocket
    handler it closes the socket with code 1008 and the detail as the reason.
    """

    def __init__(self, channel: str) -> None:
        self.channel = channel
        """The channel that was refused."""
        super().__init__(403, f"Not allowed to subscribe to channel {channel!r}")


class InvalidChannelError(HTTPException, ValueError):
    """400 (and a `ValueError`): a channel name is not 1-200 printable ASCII characters.

    Channel names are often built from request input (`f"room:{room}"`), so a bad one is
    the client's error: a handler answers 400, a websocket closes with code 1008; code
    outside requests catches it as the `ValueError` it also is.
    """

    def __init__(self, name: object) -> None:
        super().__init__(
            400,
            "channel names are 1-200 printable ASCII characters without spaces, "
            f"not {str(name)[:210]!r}",
        )


def check_channel(name: object) -> str:
    """Return `name` if it is a valid channel name.

    Raises:
        InvalidChannelError: not 1-200 printable ASCII characters without spaces.
    """
    if not isinstance(name, str) or not _CHANNEL.fullmatch(name):
        raise InvalidChannelError(name)
    return name


def encode(data: object) -> bytes:
    """Encode a published value as JSON (orjson; models and dataclasses via `jsonable_encoder`)."""
    return orjson.dumps(data, default=jsonable_encoder)


def stream_id_key(event_id: str) -> tuple[int, int] | None:
    """Return the sortable key of a stream id (`"1700000000000-3"`), `None` if malformed."""
    match = _STREAM_ID.fullmatch(event_id)
    if match is None:
        return None
    return int(match[1]), int(match[2])


class Event:
    """One thing a subscriber receives from a channel.

    Events are shared by every local subscriber of the channel: treat them as read-only.
    """

    __slots__ = ("_data", "_frame", "channel", "dropped", "id", "kind", "raw")

    def __init__(
        self,
        channel: str | None,
        raw: bytes,
        kind: EventKind = "message",
        id: str | None = None,
        dropped: int | None = None,
    ) -> None:
        self.channel = channel
        """The channel, or `None` for a resync covering every channel of a subscription."""
        self.raw = raw
        """The data as JSON bytes, as published."""
        self.kind: EventKind = kind
        """`message`, `resync`, `join` or `leave`."""
        self.id = id
        """The stream id for channels that keep history, else `None`."""
        self.dropped = dropped
        """For `resync`: how many events were dropped (`None`: unknown, after an outage)."""
        self._data: Any = _UNSET
        self._frame: str | None = None

    @classmethod
    def resync(cls, dropped: int | None, channel: str | None = None) -> Event:
        """Build the event telling a subscriber it missed `dropped` events."""
        return cls(channel, encode({"dropped": dropped}), "resync", dropped=dropped)

    @property
    def data(self) -> Any:
        """The published value, decoded from JSON (once)."""
        if self._data is _UNSET:
            self._data = orjson.loads(self.raw)
        return self._data

    def frame(self) -> str:
        """Return the websocket text frame: `{"type", "channel", "id", "data"}` as JSON."""
        if self._frame is None:
            head = orjson.dumps({"type": self.kind, "channel": self.channel, "id": self.id})
            self._frame = (head[:-1] + b',"data":' + self.raw + b"}").decode()
        return self._frame

    def sse(self) -> ServerSentEvent:
        """Return the server-sent event: `message` events without an `event:` line."""
        kind = None if self.kind == "message" else self.kind
        return ServerSentEvent(data=self.raw, event=kind, id=self.id)

    def __repr__(self) -> str:
        return f"Event({self.kind!r}, channel={self.channel!r}, id={self.id!r})"


_UNSET: Any = object()
