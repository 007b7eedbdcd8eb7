"""Server-sent events: one event's fields and its framing on the wire."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields

import orjson

from trivium.http._response import json_default

__all__ = ["ServerSentEvent", "as_event"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One server-sent event; every field is optional.

    Raises:
        ValueError: `event` or `id` holds a line break (or `id` a NUL), or `retry` is not
            a non-negative integer.
    """

    data: object = None
    """The payload: `str` as is, bytes decoded as UTF-8, anything else JSON-encoded."""
    event: str | None = None
    """The event type (`message` in the browser when omitted)."""
    id: str | None = None
    """The event id the browser echoes in `Last-Event-ID` when it reconnects."""
    retry: int | None = None
    """The reconnection delay to use, in milliseconds."""
    comment: str | None = None
    """A comment line, ignored by browsers (useful to keep a connection alive)."""

    def __post_init__(self) -> None:
        for name in ("event", "id", "comment"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"server-sent event {name} must be a str, not {value!r}")
        for name in ("event", "id"):
            value = getattr(self, name)
            if value is not None and _LINE_BREAK.search(value):
                raise ValueError(
                    f"server-sent event {name} must not contain line breaks: {value!r}"
                )
        if self.id is not None and "\0" in self.id:
            raise ValueError(f"server-sent event id must not contain NUL: {self.id!r}")
        if self.retry is not None and (
            isinstance(self.retry, bool) or not isinstance(self.retry, int) or self.retry < 0
        ):
            raise ValueError(
                f"server-sent event retry must be an int >= 0 (ms), not {self.retry!r}"
            )

    def encode(self, sep: str = "\n") -> bytes:
        """Frame the event as UTF-8 bytes, ending with a blank line."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" if line else ":" for line in _LINE_BREAK.split(self.comment))
        if self.event is not None:
            lines.append(f"event: {self.event}")
        if self.id is not None:
            lines.append(f"id: {self.id}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        if self.data is not None:
            text = _data_text(self.data)
            lines.extend(f"data: {line}" if line else "data:" for line in _LINE_BREAK.split(text))
        return "".join(line + sep for line in lines).encode() + sep.encode()


_EVENT_FIELDS = frozenset(field.name for field in fields(ServerSentEvent))


def _data_text(data: object) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data).decode()
    return orjson.dumps(data, default=json_default).decode()


def as_event(item: object) -> ServerSentEvent:
    """Turn one item of an event stream into an event."""
    if isinstance(item, ServerSentEvent):
        return item
    if isinstance(item, Mapping) and item and _EVENT_FIELDS.issuperset(item):
        # sse-starlette's shorthand: a dict made only of event fields is an event.
        return ServerSentEvent(**item)
    # Any other value is a payload, as in a generator handler: another dict is JSON (raising
    # would only cut a stream whose headers are out), and `None` is `null`, not no data.
    return ServerSentEvent(data=_data_text(item))
