"""Gzip compression of response bodies.

The decision is made from the response start message alone, so nothing is buffered but
that one message: a response is compressed when the client accepts gzip, it is not
already encoded, its type is worth compressing (never `text/event-stream`, which must
reach the client event by event) and its status carries a full body. A body sent in one
message is compressed only from `minimum_size` bytes up. A streamed body (several
messages) is compressed chunk by chunk, each flushed with `Z_SYNC_FLUSH` so the client
can decode what has arrived without waiting for the end; its `content-length` is dropped.
Compressed responses get `Vary: Accept-Encoding` and a weak `ETag` (the bytes differ from
the uncompressed representation). A `304` carries the `ETag` and `Vary` its `200` would
have had (RFC 9110 §15.4.5): it is judged from the headers it has, as though its body were
large enough to compress, unless it states a `Content-Length` below `minimum_size`.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from trivium.errors import ConfigurationError
from trivium.middleware._cors import merge_vary
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["GZipMiddleware", "accepts_gzip"]

INCOMPRESSIBLE_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "audio/",
    "video/",
    "font/woff",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/zstd",
    "application/x-7z-compressed",
)
"""Content types (or type prefixes) that are already compressed; skipped by default."""
_NO_BODY_STATUSES = frozenset({204, 206, 304})


def accepts_gzip(header: bytes) -> bool:
    """Return whether an `Accept-Encoding` value accepts gzip (honouring `q=0`)."""
    wildcard = False
    for item in header.split(b","):
        coding, _, params = item.partition(b";")
        coding = coding.strip().lower()
        if coding not in (b"gzip", b"x-gzip", b"*"):
            continue
        quality = 1.0
        for param in params.split(b";"):
            key, _, value = param.partition(b"=")
            if key.strip().lower() == b"q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if coding == b"*":
            wildcard = quality > 0
        else:
            return quality > 0
    return wildcard


class GZipMiddleware:
    """Compress response bodies with gzip for clients that accept it.

    Args:
        app: the ASGI app to wrap.
        minimum_size: bodies sent in one piece below this many bytes are left alone.
        compresslevel: 1 (fastest) to 9 (smallest).
        exclude_media_types: content types or type prefixes never compressed, in addition
            to `text/event-stream`.

    Raises:
        ConfigurationError: `compresslevel` is not 1-9 or `minimum_size` is negative
            (`gzip-option`).
    """

    __slots__ = ("app", "compresslevel", "exclude", "minimum_size")

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 6,
        exclude_media_types: Sequence[str] = INCOMPRESSIBLE_TYPES,
    ) -> None:
        if not 1 <= compresslevel <= 9:
            raise ConfigurationError(
                f"GZip compresslevel must be between 1 and 9, not {compresslevel}", "gzip-option"
            )
        if minimum_size < 0:
            raise ConfigurationError(
                f"GZip minimum_size must be >= 0, not {minimum_size}", "gzip-option"
            )
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.exclude = ("text/event-stream", *(t.lower() for t in exclude_media_types))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, compressing the response body when worthwhile."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accepted = False
        for key, value in scope["headers"]:
            if key == b"accept-encoding":
                accepted = accepted or accepts_gzip(value)
        accepted = accepted and scope.get("method") != "HEAD"
        await self.app(scope, receive, _Responder(self, send, accepted))

    def compressible(self, status: int, headers: Sequence[tuple[bytes, bytes]]) -> bool:
        """Return whether a response with `status` and `headers` may be compressed."""
        if status < 200 or status in _NO_BODY_STATUSES:
            return False
        for name, value in headers:
            key = name.lower()
            if key in (b"content-encoding", b"content-range"):
                return False
            if key == b"content-type":
                media = value.decode("latin-1").partition(";")[0].strip().lower()
                if media.startswith(self.exclude):
                    return False
            elif key == b"cache-control" and b"no-transform" in value.lower():
                return False
        return True


class _Responder:
    """The per-response state: pass through, or hold the start and compress."""

    __slots__ = ("accepted", "compressor", "gzip", "send", "start")

    def __init__(self, gzip: GZipMiddleware, send: Send, accepted: bool) -> None:
        self.gzip = gzip
        self.send = send
        self.accepted = accepted
        self.start: Message | None = None
        self.compressor: zlib._Compress | None = None

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers = list(message.get("headers", ()))
            if message["status"] == 304:
                await self.send(self._not_modified(message, headers))
                self.accepted = False
                return
            if not self.gzip.compressible(message["status"], headers):
                await self.send(message)
                self.accepted = False
                return
            merge_vary(headers, b"Accept-Encoding")
            message["headers"] = headers
            if not self.accepted:
                await self.send(message)
                return
            self.start = message
            return
        if self.start is not None and kind == "http.response.body":
            await self._first_body(self.start, message)
            self.start = None
            return
        if self.compressor is not None and kind == "http.response.body":
            await self._stream(self.compressor, message)
            return
        if self.start is not None:
            # An extension message (e.g. trailers) before any body: send as is.
            await self.send(self.start)
            self.start = None
        await self.send(message)

    def _not_modified(self, message: Message, headers: list[tuple[bytes, bytes]]) -> Message:
        """Give a `304` the `Vary` and weak `ETag` the `200` it stands for would carry."""
        if not self.gzip.compressible(200, headers):
            return message
        merge_vary(headers, b"Accept-Encoding")
        declared = _content_length(headers)
        if self.accepted and (declared is None or declared >= self.gzip.minimum_size):
            headers = [
                (name, b"W/" + value)
                if name.lower() == b"etag" and not value.startswith(b"W/")
                else (name, value)
                for name, value in headers
            ]
        return {**message, "headers": headers}

    async def _first_body(self, start: Message, message: Message) -> None:
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        headers: list[tuple[bytes, bytes]] = start["headers"]
        if not more:
            if len(body) < self.gzip.minimum_size:
                await self.send(start)
                await self.send(message)
                return
            compressed = _compress(body, self.gzip.compresslevel)
            start["headers"] = _encoded_headers(headers, str(len(compressed)).encode())
            await self.send(start)
            await self.send({"type": "http.response.body", "body": compressed})
            return
        declared = _content_length(headers)
        if declared is not None and declared < self.gzip.minimum_size:
            await self.send(start)
            await self.send(message)
            self.accepted = False
            return
        compressor = zlib.compressobj(self.gzip.compresslevel, zlib.DEFLATED, 31)
        self.compressor = compressor
        start["headers"] = _encoded_headers(headers, None)
        await self.send(start)
        await self._stream(compressor, message)

    async def _stream(self, compressor: zlib._Compress, message: Message) -> None:
        body: bytes = message.get("body", b"")
        if message.get("more_body", False):
            data = compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH)
            if len(data) > 0:
                await self.send({"type": "http.response.body", "body": data, "more_body": True})
            return
        data = compressor.compress(body) + compressor.flush(zlib.Z_FINISH)
        self.compressor = None
        await self.send({"type": "http.response.body", "body": data, "more_body": False})


def _compress(body: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(body) + compressor.flush(zlib.Z_FINISH)


def _content_length(headers: Sequence[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _encoded_headers(
    headers: Sequence[tuple[bytes, bytes]], length: bytes | None
) -> list[tuple[bytes, bytes]]:
    result: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        key = name.lower()
        if key == b"content-length":
            continue
        if key == b"etag" and not value.startswith(b"W/"):
            value = b"W/" + value
        result.append((name, value))
    result.append((b"content-encoding", b"gzip"))
    if length is not None:
        result.append((b"content-length", length))
    return result
