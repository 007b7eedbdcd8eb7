"""The UploadFile API and its use as a pydantic field type."""

from __future__ import annotations

import io

import pydantic
import pytest

from trivium.http._datastructures import Headers
from trivium.http._upload import DEFAULT_SPOOL_MAX_SIZE
from trivium.http._upload import UploadFile

pytestmark = pytest.mark.drives_no_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_write_seek_read_in_memory() -> None:
    upload = UploadFile(filename="a.txt")
    await upload.write(b"hello ")
    await upload.write(b"world")
    assert upload.size == 11
    assert upload.in_memory
    assert await upload.seek(0) == 0
    assert await upload.read(5) == b"hello"
    assert await upload.read() == b" world"
    assert await upload.seek(-5, io.SEEK_END) == 6
    assert await upload.read() == b"world"
    await upload.close()
    assert upload.file.closed


@pytest.mark.anyio
async def test_rolls_over_to_disk_past_max_size() -> None:
    upload = UploadFile(max_size=8)
    await upload.write(b"12345678")
    before = upload.in_memory
    await upload.write(b"9")
    assert (before, upload.in_memory) == (True, False)
    await upload.write(b"0")
    await upload.seek(0)
    assert await upload.read() == b"1234567890"
    assert upload.size == 10
    await upload.close()
    assert upload.file.closed


@pytest.mark.anyio
async def test_close_twice_is_harmless() -> None:
    upload = UploadFile()
    await upload.close()
    await upload.close()
    assert upload.file.closed


@pytest.mark.anyio
async def test_wraps_a_given_file() -> None:
    upload = UploadFile(io.BytesIO(b"abc"), filename="x", size=3)
    assert not upload.in_memory  # not a spooled file: treated as on disk, used from a thread
    assert await upload.read() == b"abc"
    await upload.seek(1)
    assert await upload.read(1) == b"b"
    await upload.close()


def test_defaults_and_metadata() -> None:
    upload = UploadFile(
        filename="../r\u00e9sum\u00e9.pdf",
        headers=Headers({"Content-Type": "application/pdf", "X-Extra": "1"}),
    )
    assert upload.filename == "../r\u00e9sum\u00e9.pdf"
    assert upload.content_type == "application/pdf"
    assert upload.headers["x-extra"] == "1"
    assert upload.size == 0
    assert repr(upload) == (
        "UploadFile(filename='../r\u00e9sum\u00e9.pdf', content_type='application/pdf', size=0)"
    )
    upload.file.close()
    bare = UploadFile()
    assert (bare.filename, bare.content_type) == (None, None)
    assert bare.file._max_size == DEFAULT_SPOOL_MAX_SIZE == 1024 * 1024  # type: ignore[attr-defined]
    bare.file.close()


def test_has_slots() -> None:
    upload = UploadFile()
    with pytest.raises(AttributeError):
        upload.extra = 1  # type: ignore[attr-defined]
    upload.file.close()


def test_type_adapter_validates_instances() -> None:
    upload = UploadFile(filename="a")
    assert pydantic.TypeAdapter(UploadFile).validate_python(upload) is upload
    with pytest.raises(pydantic.ValidationError, match="instance of UploadFile"):
        pydantic.TypeAdapter(UploadFile).validate_python("not a file")
    upload.file.close()


def test_type_adapter_validates_lists() -> None:
    uploads = [UploadFile(filename="a"), UploadFile(filename="b")]
    adapter = pydantic.TypeAdapter(list[UploadFile])
    assert adapter.validate_python(uploads) == uploads
    with pytest.raises(pydantic.ValidationError) as info:
        adapter.validate_python([uploads[0], b"bytes"])
    assert info.value.errors()[0]["loc"] == (1,)
    for upload in uploads:
        upload.file.close()


def test_json_schema_is_binary_string() -> None:
    binary = {"type": "string", "contentMediaType": "application/octet-stream"}
    assert pydantic.TypeAdapter(UploadFile).json_schema() == binary
    assert pydantic.TypeAdapter(list[UploadFile]).json_schema() == {
        "type": "array",
        "items": binary,
    }


def test_usable_as_model_field() -> None:
    class Form(pydantic.BaseModel):
        title: str
        attachment: UploadFile | None = None

    upload = UploadFile(filename="a")
    assert Form(title="t", attachment=upload).attachment is upload
    schema = Form.model_json_schema()
    assert schema["properties"]["attachment"]["anyOf"][0] == {
        "type": "string",
        "contentMediaType": "application/octet-stream",
    }
    upload.file.close()
