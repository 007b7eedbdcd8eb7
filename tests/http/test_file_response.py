"""FileResponse: headers, conditional requests, byte ranges, downloads, errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import anyio
import httpx
import pytest

from trivium.http._file import MAX_RANGES
from trivium.http._file import FileResponse
from trivium.http._file import parse_ranges
from trivium.http._response import Response
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

pytestmark = pytest.mark.drives_no_app

CONTENT = bytes(range(256)) * 4  # 1024 bytes
MTIME = 1_700_000_000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(CONTENT)
    os.utime(path, (MTIME, MTIME))
    return path


def serve(make: Callable[[], Response]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await make()(scope, receive, send)

    return app


async def request(
    make: Callable[[], Response], method: str = "GET", **headers: str
) -> httpx.Response:
    transport = httpx.ASGITransport(app=serve(make))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await c.request(
            method, "/", headers={k.replace("_", "-"): v for k, v in headers.items()}
        )


async def get(path: Path, **headers: str) -> httpx.Response:
    return await request(lambda: FileResponse(path), **headers)


async def full_etag(path: Path) -> str:
    return (await get(path)).headers["etag"]


LAST_MODIFIED = formatdate(MTIME, usegmt=True)


# Full responses


@pytest.mark.anyio
async def test_full_response_headers_and_body(data_file: Path) -> None:
    response = await get(data_file)
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-length"] == "1024"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["last-modified"] == LAST_MODIFIED
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')


@pytest.mark.anyio
async def test_etag_changes_when_the_file_changes(data_file: Path) -> None:
    before = await full_etag(data_file)
    await anyio.Path(data_file).write_bytes(CONTENT + b"more")
    assert await full_etag(data_file) != before


@pytest.mark.anyio
async def test_media_type_is_guessed_from_the_name(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text("<p>hi</p>")
    response = await get(page)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<p>hi</p>"


@pytest.mark.anyio
async def test_media_type_is_guessed_from_filename_first(data_file: Path) -> None:
    response = await request(lambda: FileResponse(data_file, filename="report.pdf"))
    assert response.headers["content-type"] == "application/pdf"


@pytest.mark.anyio
async def test_explicit_media_type_wins(data_file: Path) -> None:
    response = await request(lambda: FileResponse(data_file, media_type="image/png"))
    assert response.headers["content-type"] == "image/png"


@pytest.mark.anyio
async def test_small_chunks_reassemble_the_file(data_file: Path) -> None:
    chunks: list[bytes] = []

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and message["body"]:
            chunks.append(message["body"])

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with anyio.fail_after(5):
        await FileResponse(data_file, chunk_size=100)(scope, receive, send)
    assert len(chunks) == 11
    assert b"".join(chunks) == CONTENT


@pytest.mark.anyio
async def test_head_sends_headers_only(data_file: Path) -> None:
    response = await request(lambda: FileResponse(data_file), "HEAD")
    assert response.status_code == 200
    assert response.headers["content-length"] == "1024"
    assert response.content == b""


@pytest.mark.anyio
async def test_method_argument_overrides_the_scope(data_file: Path) -> None:
    response = await request(lambda: FileResponse(data_file, method="HEAD"))
    assert response.headers["content-length"] == "1024"
    assert response.content == b""


@pytest.mark.anyio
async def test_given_stat_result_is_used(data_file: Path) -> None:
    stat = await anyio.Path(data_file).stat()
    response = await request(lambda: FileResponse(data_file, stat_result=stat))
    assert response.headers["content-length"] == "1024"
    assert response.content == CONTENT


@pytest.mark.anyio
async def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    response = await get(empty, range="bytes=-10")
    assert response.status_code == 200
    assert response.headers["content-length"] == "0"
    assert response.content == b""


# Conditional requests


@pytest.mark.anyio
async def test_if_none_match_with_current_etag_gives_304(data_file: Path) -> None:
    etag = await full_etag(data_file)
    response = await get(data_file, if_none_match=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "content-length" not in response.headers


@pytest.mark.anyio
@pytest.mark.parametrize("form", ['"other", {etag}', "W/{etag}", "*"])
async def test_if_none_match_lists_weak_tags_and_star(data_file: Path, form: str) -> None:
    etag = await full_etag(data_file)
    response = await get(data_file, if_none_match=form.format(etag=etag))
    assert response.status_code == 304


@pytest.mark.anyio
async def test_if_none_match_with_other_etag_gives_200(data_file: Path) -> None:
    response = await get(data_file, if_none_match='"stale"')
    assert response.status_code == 200
    assert response.content == CONTENT


@pytest.mark.anyio
async def test_if_modified_since_not_modified_gives_304(data_file: Path) -> None:
    response = await get(data_file, if_modified_since=LAST_MODIFIED)
    assert response.status_code == 304
    later = formatdate(MTIME + 60, usegmt=True)
    assert (await get(data_file, if_modified_since=later)).status_code == 304


@pytest.mark.anyio
async def test_if_modified_since_before_change_gives_200(data_file: Path) -> None:
    earlier = formatdate(MTIME - 60, usegmt=True)
    response = await get(data_file, if_modified_since=earlier)
    assert response.status_code == 200
    assert response.content == CONTENT


@pytest.mark.anyio
async def test_garbage_if_modified_since_is_ignored(data_file: Path) -> None:
    assert (await get(data_file, if_modified_since="yesterday")).status_code == 200


@pytest.mark.anyio
async def test_if_none_match_takes_precedence_over_if_modified_since(data_file: Path) -> None:
    response = await get(data_file, if_none_match='"stale"', if_modified_since=LAST_MODIFIED)
    assert response.status_code == 200


@pytest.mark.anyio
async def test_if_match_mismatch_gives_412(data_file: Path) -> None:
    response = await get(data_file, if_match='"stale"')
    assert response.status_code == 412
    assert response.content == b""
    etag = await full_etag(data_file)
    assert (await get(data_file, if_match=etag)).status_code == 200


@pytest.mark.anyio
async def test_if_unmodified_since_before_change_gives_412(data_file: Path) -> None:
    earlier = formatdate(MTIME - 60, usegmt=True)
    assert (await get(data_file, if_unmodified_since=earlier)).status_code == 412
    assert (await get(data_file, if_unmodified_since=LAST_MODIFIED)).status_code == 200


@pytest.mark.anyio
async def test_conditionals_only_apply_to_get_and_head(data_file: Path) -> None:
    etag = await full_etag(data_file)
    response = await request(lambda: FileResponse(data_file), "POST", if_none_match=etag)
    assert response.status_code == 200


@pytest.mark.anyio
async def test_conditionals_skipped_for_non_200_status(data_file: Path) -> None:
    etag = await full_etag(data_file)
    response = await request(
        lambda: FileResponse(data_file, status_code=404), if_none_match=etag, range="bytes=0-1"
    )
    assert response.status_code == 404
    assert response.content == CONTENT


@pytest.mark.anyio
async def test_etag_given_in_headers_is_used(data_file: Path) -> None:
    response = await request(
        lambda: FileResponse(data_file, headers={"ETag": '"v1"'}), if_none_match='"v1"'
    )
    assert response.status_code == 304
    assert response.headers["etag"] == '"v1"'


# Ranges


@pytest.mark.anyio
async def test_range_first_to_last(data_file: Path) -> None:
    response = await get(data_file, range="bytes=10-19")
    assert response.status_code == 206
    assert response.content == CONTENT[10:20]
    assert response.headers["content-range"] == "bytes 10-19/1024"
    assert response.headers["content-length"] == "10"
    assert response.headers["content-type"] == "application/octet-stream"


@pytest.mark.anyio
async def test_range_open_ended(data_file: Path) -> None:
    response = await get(data_file, range="bytes=1000-")
    assert response.status_code == 206
    assert response.content == CONTENT[1000:]
    assert response.headers["content-range"] == "bytes 1000-1023/1024"


@pytest.mark.anyio
async def test_range_suffix(data_file: Path) -> None:
    response = await get(data_file, range="bytes=-24")
    assert response.status_code == 206
    assert response.content == CONTENT[-24:]
    assert response.headers["content-range"] == "bytes 1000-1023/1024"


@pytest.mark.anyio
async def test_range_past_the_end_is_clamped(data_file: Path) -> None:
    response = await get(data_file, range="bytes=1020-5000")
    assert response.content == CONTENT[1020:]
    assert response.headers["content-range"] == "bytes 1020-1023/1024"
    suffix = await get(data_file, range="bytes=-5000")
    assert suffix.content == CONTENT
    assert suffix.headers["content-range"] == "bytes 0-1023/1024"


@pytest.mark.anyio
async def test_head_with_range_sends_partial_headers(data_file: Path) -> None:
    response = await request(lambda: FileResponse(data_file), "HEAD", range="bytes=0-9")
    assert response.status_code == 206
    assert response.headers["content-length"] == "10"
    assert response.content == b""


@pytest.mark.anyio
async def test_multiple_ranges_give_multipart_byteranges(data_file: Path) -> None:
    response = await get(data_file, range="bytes=0-4, 100-104")
    assert response.status_code == 206
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("boundary=")[1].encode()
    assert int(response.headers["content-length"]) == len(response.content)
    assert "content-range" not in response.headers
    expected = (
        b"--" + boundary + b"\r\n"
        b"content-type: application/octet-stream\r\n"
        b"content-range: bytes 0-4/1024\r\n\r\n" + CONTENT[0:5] + b"\r\n"
        b"--" + boundary + b"\r\n"
        b"content-type: application/octet-stream\r\n"
        b"content-range: bytes 100-104/1024\r\n\r\n" + CONTENT[100:105] + b"\r\n"
        b"--" + boundary + b"--\r\n"
    )
    assert response.content == expected


@pytest.mark.anyio
async def test_overlapping_ranges_are_merged(data_file: Path) -> None:
    response = await get(data_file, range="bytes=10-20,15-30,31-40")
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 10-40/1024"
    assert response.content == CONTENT[10:41]


@pytest.mark.anyio
@pytest.mark.parametrize("spec", ["bytes=1024-", "bytes=2000-3000", "bytes=-0", "bytes=5000-,-0"])
async def test_unsatisfiable_range_gives_416(data_file: Path, spec: str) -> None:
    response = await get(data_file, range=spec)
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"
    assert response.content == b""


@pytest.mark.anyio
@pytest.mark.parametrize(
    "spec", ["bytes=abc", "bytes=-abc", "bytes=5-2", "bytes=1-2-3", "items=0-5", "bytes=", "0-5"]
)
async def test_malformed_or_foreign_range_is_ignored(data_file: Path, spec: str) -> None:
    response = await get(data_file, range=spec)
    assert response.status_code == 200
    assert response.content == CONTENT


@pytest.mark.anyio
async def test_too_many_ranges_send_the_whole_file(data_file: Path) -> None:
    spec = "bytes=" + ",".join(f"{i * 2}-{i * 2}" for i in range(MAX_RANGES + 1))
    response = await get(data_file, range=spec)
    assert response.status_code == 200


@pytest.mark.anyio
async def test_if_range_with_current_etag_honours_the_range(data_file: Path) -> None:
    etag = await full_etag(data_file)
    response = await get(data_file, range="bytes=0-1", if_range=etag)
    assert response.status_code == 206
    assert response.content == CONTENT[:2]


@pytest.mark.anyio
@pytest.mark.parametrize("value", ['"stale"', "W/{etag}"])
async def test_if_range_mismatch_sends_the_full_file(data_file: Path, value: str) -> None:
    etag = await full_etag(data_file)
    response = await get(data_file, range="bytes=0-1", if_range=value.format(etag=etag))
    assert response.status_code == 200
    assert response.content == CONTENT


@pytest.mark.anyio
async def test_if_range_with_date(data_file: Path) -> None:
    matching = await get(data_file, range="bytes=0-1", if_range=LAST_MODIFIED)
    assert matching.status_code == 206
    stale = await get(data_file, range="bytes=0-1", if_range=formatdate(MTIME - 1, usegmt=True))
    assert stale.status_code == 200


def test_parse_ranges_results() -> None:
    assert parse_ranges("bytes=0-0,-1", 10) == [(0, 0), (9, 9)]
    assert parse_ranges("BYTES = 2-3", 10) == [(2, 3)]
    assert parse_ranges("bytes=0-1,,", 10) == [(0, 1)]
    assert parse_ranges("bytes=10-", 10) == []
    assert parse_ranges("bytes=0-5", 0) is None
    assert parse_ranges("bytes=²-5", 10) is None


# Downloads


@pytest.mark.anyio
async def test_ascii_filename_content_disposition(data_file: Path) -> None:
    response = await request(lambda: FileResponse(data_file, filename="report 2024.pdf"))
    assert response.headers["content-disposition"] == 'attachment; filename="report 2024.pdf"'


@pytest.mark.anyio
async def test_non_ascii_filename_uses_rfc5987(data_file: Path) -> None:
    response = await request(lambda: FileResponse(data_file, filename="résumé €.txt"))
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"resume .txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.txt"
    )


@pytest.mark.anyio
async def test_inline_disposition_and_quotes_are_escaped(data_file: Path) -> None:
    make = lambda: FileResponse(  # noqa: E731
        data_file, filename='say "hi".txt', content_disposition_type="inline"
    )
    response = await request(make)
    assert response.headers["content-disposition"] == r'inline; filename="say \"hi\".txt"'


def test_filename_with_newline_is_rejected(data_file: Path) -> None:
    with pytest.raises(ValueError, match="CR, LF"):
        FileResponse(data_file, filename="a\r\nset-cookie: x=1")


def test_non_positive_chunk_size_is_rejected(data_file: Path) -> None:
    with pytest.raises(ValueError, match="chunk_size must be positive"):
        FileResponse(data_file, chunk_size=0)


# Errors


async def drive(sent: list[Message], response: Response) -> None:
    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with anyio.fail_after(5):
        await response(scope, receive, send)


@pytest.mark.anyio
async def test_missing_file_raises_before_the_response_starts(tmp_path: Path) -> None:
    sent: list[Message] = []
    with pytest.raises(FileNotFoundError, match="no file at .*missing.txt.*HTTPException\\(404\\)"):
        await drive(sent, FileResponse(tmp_path / "missing.txt"))
    assert sent == []


@pytest.mark.anyio
async def test_directory_raises_before_the_response_starts(tmp_path: Path) -> None:
    sent: list[Message] = []
    with pytest.raises(RuntimeError, match="is not a regular file"):
        await drive(sent, FileResponse(tmp_path))
    assert sent == []


@pytest.mark.anyio
async def test_file_removed_after_stat_raises_before_start(data_file: Path) -> None:
    stat = await anyio.Path(data_file).stat()
    await anyio.Path(data_file).unlink()
    sent: list[Message] = []
    with pytest.raises(FileNotFoundError, match="vanished"):
        await drive(sent, FileResponse(data_file, stat_result=stat))
    assert sent == []


@pytest.mark.anyio
async def test_file_shrinking_mid_send_raises(data_file: Path) -> None:
    stat = await anyio.Path(data_file).stat()
    await anyio.Path(data_file).write_bytes(CONTENT[:10])
    sent: list[Message] = []
    with pytest.raises(RuntimeError, match="shrank while being sent"):
        await drive(sent, FileResponse(data_file, stat_result=stat))
