"""Form parsing: `application/x-www-form-urlencoded` and `multipart/form-data`.

A multipart body is parsed as it streams in, by python-multipart's push parser, so a limit
is enforced as soon as it is crossed rather than after the whole body has been read; its
size is bounded by the request (`Limits.max_upload_size`). A urlencoded body is bounded
by `Limits.max_body_size` (10 MiB by default), read whole and then split into fields.
`FormLimits` bounds what is inside either.

Errors are `HTTPException`s whose `detail` names the limit and its value. The rule:

- **413** when something is too *large*: a field (`max_field_size`), a file
  (`max_file_size`), a part's headers (`max_part_header_size`), the body itself.
- **400** when there are too *many* of something (`max_fields`, `max_files`, more than 8
  headers in one part) or the body is malformed: a missing or invalid boundary, a broken
  or truncated multipart body, a part without a name, text that is not valid in its
  charset (UTF-8 unless a `charset` parameter says otherwise).
- **415** for any content type other than the two above.

Files uploaded before an error are closed, and their temporary files deleted, before the
error propagates. File names are kept exactly as the client sent them: they are untrusted
data, never a safe path (see `UploadFile`).
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from trivium.errors import HTTPException
from trivium.http._datastructures import FormData
from trivium.http._datastructures import Headers
from trivium.http._limits import FormLimits
from trivium.http._limits import check_content_encoding
from trivium.http._upload import UploadFile

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

    from trivium.http._request import Request

__all__ = ["FormLimits", "parse_form"]

_URLENCODED = b"application/x-www-form-urlencoded"
_MULTIPART = b"multipart/form-data"
# RFC 2046 5.1.1 boundary characters. The RFC caps a boundary at 70 characters; like
# python-multipart we accept up to 256, since some clients exceed 70.
_BOUNDARY_CHARS = frozenset(
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "
)
_MAX_BOUNDARY_LENGTH = 256
# Python codecs that are not charsets: text transforms, or slow on hostile input.
_NOT_CHARSETS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})


async def parse_form(request: Request, limits: FormLimits | None = None) -> FormData:
    """Parse the request body as a form, choosing the parser from its `Content-Type`.

    Args:
        request: The request whose body is streamed into the parser.
        limits: The limits to enforce; by default the request's `form_limits` when it
            has them, otherwise `FormLimits()`.

    Returns:
        The fields in order; file parts are `UploadFile` objects positioned at the start.
        The caller owns the files: close them with `FormData.close()`.

    Raises:
        HTTPException: 400, 413 or 415, as the module notes describe.
    """
    if limits is None:
        limits = getattr(request, "form_limits", None) or FormLimits()
    check_content_encoding(request.headers.get("content-encoding"))
    media_type, params = parse_options_header(request.headers.get("content-type"))
    if media_type == _URLENCODED:
        return await _parse_urlencoded(request, limits, _charset(params.get(b"charset")))
    if media_type == _MULTIPART:
        return await _parse_multipart(request, limits, _boundary(params.get(b"boundary")))
    shown = media_type.decode("latin-1") or "none"
    raise HTTPException(
        415,
        f"Unsupported content type {shown!r} for a form: expected "
        "application/x-www-form-urlencoded or multipart/form-data",
    )


def _charset(raw: bytes | None) -> str:
    """Return the text codec named by a `charset` parameter (UTF-8 when absent)."""
    if raw is None:
        return "utf-8"
    name = raw.decode("latin-1").strip()
    try:
        codec = codecs.lookup(name).name
        if codec in _NOT_CHARSETS:
            raise LookupError(codec)
        b"a".decode(codec)  # LookupError for bytes-to-bytes codecs such as base64 or zlib
    except UnicodeError:
        pass  # a text codec that merely cannot decode the probe byte, such as utf-16
    except (LookupError, ValueError):  # ValueError: the name holds a NUL
        raise HTTPException(400, f"Unknown charset {name[:40]!r} in Content-Type") from None
    return codec


def _boundary(raw: bytes | None) -> bytes:
    """Return the multipart boundary after checking it."""
    if not raw:
        raise HTTPException(400, "multipart/form-data Content-Type has no boundary parameter")
    if len(raw) > _MAX_BOUNDARY_LENGTH or raw.endswith(b" ") or not _BOUNDARY_CHARS.issuperset(raw):
        raise HTTPException(
            400,
            "Invalid multipart boundary: it must be 1 to 256 letters, digits or "
            "'()+_,-./:=? characters, not ending in a space",
        )
    return raw


def _decode(data: bytes, charset: str, what: str) -> str:
    try:
        return data.decode(charset)
    except UnicodeError:
        raise HTTPException(400, f"A form {what} is not valid {charset} text") from None


def _field_too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"A form field is larger than max_field_size ({limit} bytes)")


def _too_many_fields(limit: int) -> HTTPException:
    return HTTPException(400, f"Too many form fields: max_fields is {limit}")


async def _parse_urlencoded(request: Request, limits: FormLimits, charset: str) -> FormData:
    # The body is bounded by the request's max_body_size; split whole, it parses as
    # python-multipart's querystring parser does (fields split on "&", empty ones
    # skipped, a field without "=" has an empty value) at a fraction of the cost.
    # `body()` reads a body of declared, acceptable length in one call on RSGI (the
    # stream takes a round trip to the server per chunk and one more for its end).
    body = await request.body()
    collector = _UrlencodedCollector(limits, charset)
    for part in body.split(b"&"):
        if part:
            name, _, value = part.partition(b"=")
            collector.add(name, value)
    return FormData(collector.items)


class _UrlencodedCollector:
    """The fields of a urlencoded body, decoded within the limits."""

    __slots__ = ("_charset", "_limits", "_raw_limit", "items")

    def __init__(self, limits: FormLimits, charset: str) -> None:
        self._limits = limits
        self._charset = charset
        # A percent-escape is 3 bytes for 1, so a raw part over 3x the limit is over it.
        self._raw_limit = 3 * limits.max_field_size
        self.items: list[tuple[str, str]] = []

    def add(self, name: bytes, value: bytes) -> None:
        if len(self.items) >= self._limits.max_fields:
            raise _too_many_fields(self._limits.max_fields)
        if len(name) > self._raw_limit or len(value) > self._raw_limit:
            raise _field_too_large(self._limits.max_field_size)
        self.items.append((self._unquote(name, "name"), self._unquote(value, "value")))

    def _unquote(self, raw: bytes, what: str) -> str:
        data = unquote_to_bytes(raw.replace(b"+", b" ")) if b"%" in raw or b"+" in raw else raw
        if len(data) > self._limits.max_field_size:
            raise _field_too_large(self._limits.max_field_size)
        return _decode(data, self._charset, f"field {what}")


async def _parse_multipart(request: Request, limits: FormLimits, boundary: bytes) -> FormData:
    collector = _MultipartCollector(limits)
    # python-multipart checks each header line; the collector checks each part's total.
    parser = MultipartParser(
        boundary, collector.callbacks(), max_header_size=limits.max_part_header_size
    )
    try:
        async for chunk in request._chunks(request.limits.max_upload_size):
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise _malformed(exc, limits) from None
            await collector.flush()
        if not collector.finished:
            raise HTTPException(400, "Malformed multipart body: it ends before the final boundary")
        await collector.rewind()
    except BaseException:
        collector.discard()
        raise
    return FormData(collector.items)


def _malformed(exc: FormParserError, limits: FormLimits) -> HTTPException:
    message = str(exc)
    if "header size" in message:
        # One header line over the limit, caught by python-multipart before our callbacks.
        return _headers_too_large(limits.max_part_header_size)
    return HTTPException(400, f"Malformed multipart body: {message}")


def _headers_too_large(limit: int) -> HTTPException:
    return HTTPException(
        413, f"A multipart part's headers are larger than max_part_header_size ({limit} bytes)"
    )


class _MultipartCollector:
    """Callbacks for python-multipart's multipart parser, enforcing the limits.

    The parser's callbacks are synchronous, so file data is queued in `_pending` and
    written by `flush()` (which may use a thread) after each chunk has been parsed.
    """

    __slots__ = (
        "_charset",
        "_data",
        "_fields",
        "_header_name",
        "_header_size",
        "_header_value",
        "_headers",
        "_limits",
        "_name",
        "_pending",
        "_size",
        "_upload",
        "_uploads",
        "finished",
        "items",
    )

    def __init__(self, limits: FormLimits) -> None:
        self._limits = limits
        self.items: list[tuple[str, str | UploadFile]] = []
        self.finished = False
        self._uploads: list[UploadFile] = []
        self._pending: list[tuple[UploadFile, bytes]] = []
        self._fields = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._header_size = 0
        self._name = ""
        self._upload: UploadFile | None = None
        self._data = bytearray()
        self._charset = "utf-8"
        self._size = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = []
        self._header_size = 0
        self._header_name.clear()
        self._header_value.clear()

    def _count_header(self, size: int) -> None:
        self._header_size += size
        if self._header_size > self._limits.max_part_header_size:
            raise _headers_too_large(self._limits.max_part_header_size)

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers.append((bytes(self._header_name).lower(), bytes(self._header_value).rstrip()))
        self._header_name.clear()
        self._header_value.clear()

    def _header(self, name: bytes) -> bytes | None:
        for key, value in self._headers:
            if key == name:
                return value
        return None

    def _headers_finished(self) -> None:
        disposition = self._header(b"content-disposition")
        if disposition is None:
            raise HTTPException(400, "A multipart part has no Content-Disposition header")
        _, options = parse_options_header(disposition.decode("latin-1"))
        raw_name = options.get(b"name")
        if raw_name is None:
            raise HTTPException(400, "A multipart part's Content-Disposition has no name")
        self._name = _decode(raw_name, "utf-8", "field name")
        self._size = 0
        raw_filename = options.get(b"filename")
        if raw_filename is None:
            self._text_part()
        else:
            self._file_part(_decode(raw_filename, "utf-8", "file name"))

    def _text_part(self) -> None:
        limits = self._limits
        if self._fields >= limits.max_fields:
            raise _too_many_fields(limits.max_fields)
        self._fields += 1
        self._data.clear()
        content_type = self._header(b"content-type")
        charset = parse_options_header(content_type)[1].get(b"charset") if content_type else None
        self._charset = _charset(charset)

    def _file_part(self, filename: str) -> None:
        limits = self._limits
        if len(self._uploads) >= limits.max_files:
            raise HTTPException(400, f"Too many files: max_files is {limits.max_files}")
        upload = UploadFile(
            filename=filename, headers=Headers(raw=self._headers), max_size=limits.spool_max_size
        )
        self._uploads.append(upload)
        self._upload = upload
        self.items.append((self._name, upload))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        upload = self._upload
        if upload is None:
            if self._size > self._limits.max_field_size:
                raise _field_too_large(self._limits.max_field_size)
            self._data += data[start:end]
            return
        limit = self._limits.max_file_size
        if limit is not None and self._size > limit:
            raise HTTPException(
                413, f"An uploaded file is larger than max_file_size ({limit} bytes)"
            )
        self._pending.append((upload, data[start:end]))

    def _part_end(self) -> None:
        if self._upload is None:
            self.items.append((self._name, _decode(bytes(self._data), self._charset, "field")))
        self._upload = None

    def _end(self) -> None:
        self.finished = True

    async def flush(self) -> None:
        """Write the file data queued while parsing the last chunk."""
        pending, self._pending = self._pending, []
        for upload, data in pending:
            await upload.write(data)

    async def rewind(self) -> None:
        """Put every file back at its start, ready for the handler to read."""
        for upload in self._uploads:
            await upload.seek(0)

    def discard(self) -> None:
        """Close every file created so far, after an error."""
        # Synchronous on purpose: this runs while an error (maybe a cancellation) unwinds,
        # where awaiting is unreliable, and closing an anonymous temporary file is quick.
        self._pending = []
        for upload in self._uploads:
            upload.file.close()
