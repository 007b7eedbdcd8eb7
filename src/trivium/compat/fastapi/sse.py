"""`fastapi.sse` on trivium: server-sent events with FastAPI's `data` semantics.

FastAPI's `ServerSentEvent` always sends `data` as JSON (`data="hello"` goes out as
`data: "hello"`) and has `raw_data` for text sent as it is. Trivium's own event sends a
`str` as it is; this subclass follows FastAPI's rule, so ported code streams the same
bytes.
"""

from __future__ import annotations

import dataclasses

import orjson

from trivium.http._response import json_default
from trivium.responses import EventSourceResponse
from trivium.responses import ServerSentEvent as _ServerSentEvent

__all__ = ["EventSourceResponse", "ServerSentEvent", "format_sse_event"]


@dataclasses.dataclass(frozen=True, slots=True)
class ServerSentEvent(_ServerSentEvent):
    """One server-sent event: `data` is sent as JSON, `raw_data` as it is.

    Raises:
        ValueError: both `data` and `raw_data` are set, or a field is invalid.
    """

    raw_data: str | None = None
    """Text sent as the `data:` field without JSON encoding."""

    def __post_init__(self) -> None:
        super(ServerSentEvent, self).__post_init__()
        if self.data is not None and self.raw_data is not None:
            raise ValueError(
                "Cannot set both 'data' and 'raw_data' on the same ServerSentEvent: use "
                "'data' for JSON payloads or 'raw_data' for pre-formatted text"
            )

    def encode(self, sep: str = "\n") -> bytes:
        """Frame the event as UTF-8 bytes, ending with a blank line."""
        text = self.raw_data
        if text is None and self.data is not None:
            text = orjson.dumps(self.data, default=json_default).decode()
        plain = _ServerSentEvent(
            data=text, event=self.event, id=self.id, retry=self.retry, comment=self.comment
        )
        return plain.encode(sep)


def format_sse_event(
    *,
    data_str: str | None = None,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """Frame one event from already serialized `data_str` (FastAPI's helper)."""
    return ServerSentEvent(
        raw_data=data_str, event=event, id=id, retry=retry, comment=comment
    ).encode()
