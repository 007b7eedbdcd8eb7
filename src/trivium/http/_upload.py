"""Uploaded files.

An `UploadFile` wraps a `tempfile.SpooledTemporaryFile`: small uploads stay in memory, and
once more than `max_size` bytes have been written the data moves to an anonymous file on
disk. Its async methods call the file directly while it is in memory (a memory copy never
blocks the loop) and hand the call to a worker thread once the file lives on disk.

The `filename` is whatever the client sent. It is untrusted data, like any other field:
never use it as a path (`open(upload.filename)` could climb out of the intended
directory or overwrite something); derive a safe name of your own instead.
"""

from __future__ import annotations

import tempfile
from typing import IO
from typing import TYPE_CHECKING

import anyio.to_thread

from trivium.http._datastructures import Headers

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

__all__ = ["DEFAULT_SPOOL_MAX_SIZE", "UploadFile"]

DEFAULT_SPOOL_MAX_SIZE = 1024 * 1024
"""Bytes an upload keeps in memory before it rolls over to a file on disk."""


class UploadFile:
    """A file uploaded in a multipart form.

    Use it as a handler parameter type (`file: UploadFile`, `files: list[UploadFile]`);
    pydantic validates it as an instance check and documents it in OpenAPI as a binary
    string.

    Example:
        ```python
        async def upload(file: UploadFile) -> dict[str, int]:
            data = await file.read()
            return {"size": len(data)}
        ```
    """

    __slots__ = ("file", "filename", "headers", "size")

    def __init__(
        self,
        file: IO[bytes] | None = None,
        *,
        filename: str | None = None,
        headers: Headers | None = None,
        size: int = 0,
        max_size: int = DEFAULT_SPOOL_MAX_SIZE,
    ) -> None:
        """Wrap `file`, or a new spooled temporary file holding up to `max_size` bytes in memory.

        Args:
            file: An open binary file; by default a new `SpooledTemporaryFile`.
            filename: The name the client gave the file (untrusted, see the module notes).
            headers: The part's headers.
            size: Bytes already in `file`.
            max_size: The spool threshold of the file created when `file` is not given.
        """
        if file is None:
            file = tempfile.SpooledTemporaryFile(max_size=max_size)  # noqa: SIM115 - owned here
        self.file: IO[bytes] = file
        """The underlying file object (read and write it through the async methods)."""
        self.filename = filename
        """The client's file name, as sent: untrusted data, never a safe path."""
        self.headers = headers if headers is not None else Headers()
        """The headers of the multipart part."""
        self.size = size
        """Bytes written to the file so far."""

    @property
    def content_type(self) -> str | None:
        """The media type the client declared in the part's headers, if any (untrusted)."""
        return self.headers.get("content-type")

    @property
    def in_memory(self) -> bool:
        """Whether the data is still held in memory rather than in a file on disk."""
        # `_rolled` is absent when `file` is not a spooled file: treat that as on disk.
        return not getattr(self.file, "_rolled", True)

    def _blocks(self, extra: int = 0) -> bool:
        """Return whether touching the file (writing `extra` more bytes) may do disk I/O."""
        if not self.in_memory:
            return True
        limit: int = getattr(self.file, "_max_size", 0)
        return extra > 0 and bool(limit) and self.file.tell() + extra > limit

    async def write(self, data: bytes) -> None:
        """Append `data` at the current position and count it in `size`."""
        if self._blocks(len(data)):
            await anyio.to_thread.run_sync(self.file.write, data)
        else:
            self.file.write(data)
        self.size += len(data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (all the rest when negative) from the current position."""
        if self._blocks():
            return await anyio.to_thread.run_sync(self.file.read, size)
        return self.file.read(size)

    async def seek(self, offset: int, whence: int = 0) -> int:
        """Move to `offset` (from the start by default, as `io` does) and return the position."""
        if self._blocks():
            return await anyio.to_thread.run_sync(self.file.seek, offset, whence)
        return self.file.seek(offset, whence)

    async def close(self) -> None:
        """Close the file; a file on disk is deleted. Closing twice is harmless."""
        if self.file.closed:
            return
        if self._blocks():
            await anyio.to_thread.run_sync(self.file.close)
        else:
            self.file.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(filename={self.filename!r}, "
            f"content_type={self.content_type!r}, size={self.size!r})"
        )

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: object, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Validate an `UploadFile` parameter by an instance check."""
        from pydantic_core import core_schema

        return core_schema.is_instance_schema(cls)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Describe an upload in JSON schema (OpenAPI 3.1) as a string of binary content."""
        return {"type": "string", "contentMediaType": "application/octet-stream"}
