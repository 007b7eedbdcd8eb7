"""Find the CSRF field in a form body without consuming it for the app.

The body is read into memory only as far as needed: a urlencoded body whole (bounded by
`max_body_size`), a multipart body until the CSRF part has ended (forms put the hidden
field first, so uploads stream on to the app untouched). What was read is handed back
to the app by a `receive` that replays it first.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from trivium.types import Message
from trivium.types import Receive

__all__ = ["BodyTooLarge", "FormScan", "scan_form"]

_MAX_TOKEN = 256


class BodyTooLarge(Exception):  # noqa: N818 - an outcome, mapped to a 413 response
    """The body grew past the limit before the CSRF field was found."""


class FormScan:
    """The CSRF field's value (if found) and a `receive` that replays what was read."""

    __slots__ = ("body", "disconnected", "more_body", "receive", "token")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.body = bytearray()
        self.more_body = True
        self.disconnected = False
        self.token: str | None = None

    async def read(self) -> bytes | None:
        """Return the next chunk of the body, or `None` at its end."""
        if not self.more_body:
            return None
        message = await self.receive()
        if message["type"] != "http.request":
            self.more_body = False
            self.disconnected = True
            return None
        chunk: bytes = message.get("body", b"")
        self.more_body = bool(message.get("more_body", False))
        self.body += chunk
        return chunk

    def replay(self) -> Receive:
        """Return a `receive` giving the app the bytes read so far, then the rest."""
        pending: list[Message] = [
            {"type": "http.request", "body": bytes(self.body), "more_body": self.more_body}
        ]
        receive = self.receive

        async def replayed() -> Message:
            return pending.pop() if pending else await receive()

        return replayed


class _PartFinder:
    __slots__ = ("capturing", "done", "field", "header", "name", "token", "value")

    def __init__(self, field: bytes) -> None:
        self.field = field
        self.name = bytearray()
        self.header = bytearray()
        self.value = bytearray()
        self.capturing = False
        self.done = False
        self.token: bytes | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.begin,
            "on_header_field": lambda d, s, e: self.name.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self.header.extend(d[s:e]),
            "on_header_end": self.header_end,
            "on_part_data": self.data,
            "on_part_end": self.end,
        }

    def begin(self) -> None:
        self.capturing = False
        self.value.clear()

    def header_end(self) -> None:
        if bytes(self.name).lower() == b"content-disposition":
            _, params = parse_options_header(bytes(self.header))
            self.capturing = params.get(b"name") == self.field and b"filename" not in params
        self.name.clear()
        self.header.clear()

    def data(self, data: bytes, start: int, end: int) -> None:
        if self.capturing and len(self.value) <= _MAX_TOKEN:
            self.value.extend(data[start:end])

    def end(self) -> None:
        # The parser goes on through the rest of the chunk: keep the first match.
        if self.capturing and not self.done:
            self.done = True
            self.token = bytes(self.value)
        self.capturing = False


async def scan_form(receive: Receive, content_type: bytes, field: str, limit: int) -> FormScan:
    """Read the body until the form field `field` is found; return the scan.

    Raises:
        BodyTooLarge: more than `limit` bytes were read without finding the field.
    """
    scan = FormScan(receive)
    kind, params = parse_options_header(content_type)
    if kind == b"multipart/form-data":
        boundary = params.get(b"boundary")
        if boundary:
            await _scan_multipart(scan, boundary, field.encode(), limit)
        return scan
    while (chunk := await scan.read()) is not None:
        del chunk
        if len(scan.body) > limit:
            raise BodyTooLarge
    for key, value in parse_qsl(bytes(scan.body).decode("latin-1"), keep_blank_values=True):
        if key == field:
            scan.token = value
            break
    return scan


async def _scan_multipart(scan: FormScan, boundary: bytes, field: bytes, limit: int) -> None:
    finder = _PartFinder(field)
    parser = MultipartParser(boundary, finder.callbacks())  # type: ignore[arg-type]
    while not finder.done and (chunk := await scan.read()) is not None:
        try:
            parser.write(chunk)
        except FormParserError:
            return
        if not finder.done and len(scan.body) > limit:
            raise BodyTooLarge
    if finder.token is not None and len(finder.token) <= _MAX_TOKEN:
        scan.token = finder.token.decode("latin-1")
