"""Serve a file from disk with validators, conditional requests and byte ranges.

What the request asks for is settled in `prepare()`, before anything is sent: the file is
stat-ed (in a worker thread), `ETag`/`Last-Modified` are compared with `If-None-Match`,
`If-Modified-Since`, `If-Match` and `If-Unmodified-Since` (RFC 9110 §13.2.2 order), and
a `Range` header becomes a list of segments — literal bytes (multipart boundaries) and
inclusive byte spans of the file. `stream_body()` then only walks those segments, reading
the file in chunks in a worker thread, so any protocol sender can serve it.

Multiple ranges are answered with `206 multipart/byteranges`; overlapping or adjacent
ranges are merged first (RFC 9110 §14.3 allows it), and a request with more than
`MAX_RANGES` ranges is answered with the whole file. A missing file raises
`FileNotFoundError` at send time, before the response starts, so the framework answers
500: check that the file exists first and raise `HTTPException(404)` yourself.
"""

from __future__ import annotations

import mimetypes
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Mapping
from email.utils import formatdate
from email.utils import mktime_tz
from email.utils import parsedate_tz
from pathlib import Path
from urllib.parse import quote

import anyio
import anyio.to_thread

from trivium.http._datastructures import Headers
from trivium.http._streaming import Background
from trivium.http._streaming import StreamedResponse
from trivium.http._streaming import Write
from trivium.http._streaming import build_headers

__all__ = ["MAX_RANGES", "FileResponse", "content_disposition", "parse_ranges"]

MAX_RANGES = 64
"""Above this many ranges in one request the whole file is sent instead."""

Segment = bytes | tuple[int, int]
_ETAG = re.compile(r'(?:W/)?"[^"]*"')


_COMPRESSED = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}
"""The type of a file `mimetypes` names by its compression (`.gz`, `.bz2`, `.xz`, `.br`)."""


class FileResponse(StreamedResponse):
    """Send a file, answering conditional and range requests.

    Headers sent: `content-type` (guessed from the file name unless given),
    `content-length`, `last-modified`, `etag` (from the modification time and size),
    `accept-ranges: bytes`, and `content-disposition` when `filename` is given (with an
    RFC 5987 `filename*=` for non-ASCII names). Conditional and range headers are only
    honoured for GET and HEAD with `status_code` 200.

    Args:
        path: the file to send.
        status_code: the HTTP status for a full response.
        headers: extra headers; an `etag` given here replaces the computed one.
        media_type: the content type; guessed from `filename` or `path` when omitted.
        background: work run after the response is sent.
        filename: the name offered to the browser in `content-disposition`.
        content_disposition_type: `attachment` (download) or `inline` (display).
        stat_result: an `os.stat_result` already at hand, to skip the `stat` call.
        method: the request method to assume instead of the one in the ASGI scope.
        chunk_size: how many bytes to read at a time.

    Raises:
        ValueError: a header value (e.g. the file name) contains CR, LF or NUL, or
            `chunk_size` is not positive.
    """

    __slots__ = ("_file", "_segments", "chunk_size", "filename", "method", "path", "stat_result")

    def __init__(  # noqa: PLR0913 - the parameters FastAPI and Starlette users know
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background = None,
        filename: str | None = None,
        content_disposition_type: str = "attachment",
        stat_result: os.stat_result | None = None,
        method: str | None = None,
        chunk_size: int = 64 * 1024,
    ) -> None:
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, not {chunk_size}")
        self.path = path
        """The file sent."""
        self.filename = filename
        """The download name, if any."""
        self.stat_result = stat_result
        """The file's stat, filled in when the response is prepared."""
        self.method = method
        """The request method assumed, if not taken from the scope."""
        self.chunk_size = chunk_size
        """Bytes read per chunk."""
        self._file: anyio.AsyncFile[bytes] | None = None
        self._segments: list[Segment] = []
        if media_type is None:
            guessed, encoding = mimetypes.guess_type(filename or os.fspath(path))
            if encoding is not None:  # `app.css.gz` is gzip, not CSS a browser could read
                guessed = _COMPRESSED.get(encoding, "application/octet-stream")
            media_type = guessed or "application/octet-stream"
        merged = {key.lower(): value for key, value in (headers or {}).items()}
        if filename is not None:
            merged.setdefault(
                "content-disposition", content_disposition(filename, content_disposition_type)
            )
        self._init_streamed(status_code, background, build_headers(merged, media_type, "utf-8"))

    async def prepare(self, method: str, request_headers: Headers) -> bool:
        """Stat the file and settle status and headers for the request's conditionals and range.

        Raises:
            FileNotFoundError: there is no file at `path`.
            RuntimeError: `path` is not a regular file.
        """
        if self.stat_result is None:
            self.stat_result = await anyio.to_thread.run_sync(_stat, self.path)
        has_body = self._plan((self.method or method).upper(), request_headers, self.stat_result)
        if has_body and self._segments:
            # Opened before the response starts, so a vanished file still becomes a 500.
            self._file = await anyio.to_thread.run_sync(_open, self.path)
        return has_body

    def _plan(self, method: str, request_headers: Headers, stat_result: os.stat_result) -> bool:
        size = stat_result.st_size
        mtime = int(stat_result.st_mtime)
        headers = self.headers
        etag = headers.setdefault("etag", f'"{stat_result.st_mtime_ns:x}-{size:x}"')
        headers.setdefault("last-modified", formatdate(mtime, usegmt=True))
        headers.setdefault("accept-ranges", "bytes")
        if self.status_code != 200 or method not in ("GET", "HEAD"):
            return self._full(size, method)
        status = _precondition_status(request_headers, etag, mtime)
        if status is not None:
            return self._empty(status)
        range_header = request_headers.get("range")
        if range_header is None or not _if_range_holds(request_headers, etag, mtime):
            return self._full(size, method)
        ranges = parse_ranges(range_header, size)
        if ranges is None:
            return self._full(size, method)
        if not ranges:
            headers["content-range"] = f"bytes */{size}"
            return self._empty(416)
        self.status_code = 206
        if len(ranges) == 1:
            start, end = ranges[0]
            headers["content-range"] = f"bytes {start}-{end}/{size}"
            self._segments = [ranges[0]]
        else:
            self._segments = self._multipart(ranges, size)
        length = sum(
            len(seg) if isinstance(seg, bytes) else seg[1] - seg[0] + 1 for seg in self._segments
        )
        headers["content-length"] = str(length)
        return method != "HEAD"

    def _full(self, size: int, method: str) -> bool:
        self.headers.setdefault("content-length", str(size))
        self._segments = [(0, size - 1)] if size else []
        return method != "HEAD"

    def _empty(self, status: int) -> bool:
        self.status_code = status
        headers = self.headers
        for name in ("content-type", "content-disposition", "content-length"):
            if name in headers:
                del headers[name]
        if status != 304:
            headers["content-length"] = "0"
        return False

    def _multipart(self, ranges: list[tuple[int, int]], size: int) -> list[Segment]:
        boundary = secrets.token_hex(16)
        part_type = self.headers.get("content-type", "application/octet-stream")
        segments: list[Segment] = []
        for index, (start, end) in enumerate(ranges):
            # The CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1).
            lead = "--" if index == 0 else "\r\n--"
            head = (
                f"{lead}{boundary}\r\n"
                f"content-type: {part_type}\r\n"
                f"content-range: bytes {start}-{end}/{size}\r\n\r\n"
            )
            segments += [head.encode("latin-1"), (start, end)]
        segments.append(f"\r\n--{boundary}--\r\n".encode())
        self.headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
        return segments

    async def stream_body(self, write: Write) -> None:
        """Send the selected parts of the file through `write`, a chunk at a time.

        Raises:
            FileNotFoundError: the file vanished since it was stat-ed.
            RuntimeError: the file shrank while it was being sent.
        """
        file = self._file
        if file is None:
            file = self._file = await anyio.to_thread.run_sync(_open, self.path)
        for segment in self._segments:
            if isinstance(segment, bytes):
                await write(segment)
                continue
            start, end = segment
            await file.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = await file.read(min(self.chunk_size, remaining))
                if not chunk:
                    raise RuntimeError(f"FileResponse: {self.path} shrank while being sent")
                remaining -= len(chunk)
                await write(chunk)

    async def release(self) -> None:
        """Close the file if it was opened."""
        if self._file is not None:
            with anyio.CancelScope(shield=True):
                await self._file.aclose()
            self._file = None


def _stat(path: str | os.PathLike[str]) -> os.stat_result:
    try:
        result = Path(path).stat()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"FileResponse: no file at {os.fspath(path)!r}; check that it exists and raise "
            "HTTPException(404) before returning the response"
        ) from None
    if not stat.S_ISREG(result.st_mode):
        raise RuntimeError(f"FileResponse: {os.fspath(path)!r} is not a regular file")
    return result


def _open(path: str | os.PathLike[str]) -> anyio.AsyncFile[bytes]:
    try:
        # Closed by release() once the response is over.
        return anyio.AsyncFile(Path(path).open("rb"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"FileResponse: the file {os.fspath(path)!r} vanished before it could be sent"
        ) from None


def content_disposition(filename: str, disposition_type: str = "attachment") -> str:
    """Build a `content-disposition` value, with an RFC 5987 `filename*` for non-ASCII names."""
    ascii_name = (
        unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
        if not filename.isascii()
        else filename
    )
    quoted = ascii_name.replace("\\", "\\\\").replace('"', '\\"') or "download"
    value = f'{disposition_type}; filename="{quoted}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def _http_date(value: str) -> int | None:
    parsed = parsedate_tz(value)
    return None if parsed is None else mktime_tz(parsed)


def _etag_listed(header: str, etag: str, *, weak: bool) -> bool:
    if header.strip() == "*":
        return True
    if weak:
        target = etag.removeprefix("W/")
        return any(tag.removeprefix("W/") == target for tag in _ETAG.findall(header))
    return not etag.startswith("W/") and etag in _ETAG.findall(header)


def _precondition_status(request: Headers, etag: str, mtime: int) -> int | None:
    if_match = request.get("if-match")
    if if_match is not None:
        if not _etag_listed(if_match, etag, weak=False):
            return 412
    elif (since := request.get("if-unmodified-since")) is not None:
        date = _http_date(since)
        if date is not None and mtime > date:
            return 412
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        return 304 if _etag_listed(if_none_match, etag, weak=True) else None
    since = request.get("if-modified-since")
    if since is not None:
        date = _http_date(since)
        if date is not None and mtime <= date:
            return 304
    return None


def _if_range_holds(request: Headers, etag: str, mtime: int) -> bool:
    value = request.get("if-range")
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        # A strong comparison: a weak tag never matches.
        return not value.startswith("W/") and value == etag
    return _http_date(value) == mtime


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    """Parse a `Range` header into sorted, merged, inclusive byte spans within `size`.

    Returns:
        `None` when the header should be ignored (not `bytes`, malformed, too many ranges,
        empty file), an empty list when no range is satisfiable (answer 416), else the
        spans.
    """
    unit, equals, specs = header.partition("=")
    if not equals or unit.strip().lower() != "bytes" or size == 0:
        return None
    items = [item.strip() for item in specs.split(",") if item.strip()]
    if not items or len(items) > MAX_RANGES:
        return None
    spans: list[tuple[int, int]] = []
    for item in items:
        first, dash, last = (part.strip() for part in item.partition("-"))
        if not dash:
            return None
        if not first:
            if not _digits(last):
                return None
            if int(last) > 0:
                spans.append((max(size - int(last), 0), size - 1))
            continue
        if not _digits(first) or (last and not _digits(last)):
            return None
        start = int(first)
        if last and int(last) < start:
            return None
        if start < size:
            spans.append((start, min(int(last), size - 1) if last else size - 1))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
