"""GZipMiddleware: when bodies are compressed, how, and when they are left alone."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from trivium import App
from trivium.errors import ConfigurationError
from trivium.middleware import GZipMiddleware
from trivium.middleware import Middleware
from trivium.middleware._gzip import accepts_gzip
from trivium.responses import EventSourceResponse
from trivium.responses import FileResponse
from trivium.responses import PlainTextResponse
from trivium.responses import Response
from trivium.responses import StreamingResponse
from trivium.testing import TestClient
from trivium.types import Message

BIG = "trivium " * 200  # 1600 bytes


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_client(tmp_path: Path | None = None, **options: Any) -> TestClient:  # noqa: C901 - one app with a route per case
    app = App(middleware=[Middleware(GZipMiddleware, **options)], openapi_url=None)

    @app.get("/big")
    async def big() -> PlainTextResponse:
        return PlainTextResponse(BIG, headers={"etag": '"v1"'})

    @app.get("/small")
    async def small() -> PlainTextResponse:
        return PlainTextResponse("tiny")

    @app.get("/encoded")
    async def encoded() -> Response:
        return Response(b"x" * 2000, headers={"content-encoding": "br"}, media_type="text/plain")

    @app.get("/png")
    async def png() -> Response:
        return Response(b"\x89PNG" + b"\0" * 2000, media_type="image/png")

    @app.get("/no-transform")
    async def no_transform() -> PlainTextResponse:
        return PlainTextResponse(BIG, headers={"cache-control": "no-transform"})

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[str]:
            for i in range(5):
                yield f"chunk {i} " * 50

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/short-stream")
    async def short_stream() -> StreamingResponse:
        return StreamingResponse(iter(["ab", "cd"]), headers={"content-length": "4"})

    @app.get("/events")
    async def events() -> EventSourceResponse:
        return EventSourceResponse(iter([{"data": BIG}]))

    if tmp_path is not None:
        file = tmp_path / "big.txt"
        file.write_text(BIG)

        @app.get("/file")
        async def serve_file() -> FileResponse:
            return FileResponse(file)

    return TestClient(app)


def raw_get(client: TestClient, url: str, **headers: str) -> tuple[Any, bytes]:
    with client.stream("GET", url, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def test_large_body_is_compressed_with_fixed_content_length() -> None:
    client = make_client()
    response, raw = raw_get(client, "/big", **{"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) == len(raw) < len(BIG)
    assert gzip.decompress(raw).decode() == BIG


def test_compressed_response_gets_a_weak_etag() -> None:
    response = make_client().get("/big", headers={"accept-encoding": "gzip"})
    assert response.headers["etag"] == 'W/"v1"'
    assert response.text == BIG


def test_small_body_is_left_alone_but_varies() -> None:
    response = make_client().get("/small", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.text == "tiny"


def test_minimum_size_is_configurable() -> None:
    response = make_client(minimum_size=0).get("/small", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == "tiny"


@pytest.mark.parametrize("accept", ["identity", "gzip;q=0", "br", "*;q=0", ""])
def test_client_that_does_not_accept_gzip_gets_plain_body(accept: str) -> None:
    response, raw = raw_get(make_client(), "/big", **{"accept-encoding": accept})
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert raw.decode() == BIG


def test_already_encoded_body_is_never_recompressed() -> None:
    response, raw = raw_get(make_client(), "/encoded", **{"accept-encoding": "gzip, br"})
    assert response.headers["content-encoding"] == "br"
    assert raw == b"x" * 2000
    assert "vary" not in response.headers


@pytest.mark.parametrize("url", ["/png", "/no-transform"])
def test_excluded_responses_are_not_compressed(url: str) -> None:
    response, raw = raw_get(make_client(), url, **{"accept-encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert len(raw) > 1000


def test_event_stream_is_never_compressed() -> None:
    client = make_client(exclude_media_types=())
    response, raw = raw_get(client, "/events", **{"accept-encoding": "gzip"})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in response.headers
    assert b"data: trivium" in raw


def test_streaming_response_is_compressed_without_content_length() -> None:
    response, raw = raw_get(make_client(), "/stream", **{"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    expected = "".join(f"chunk {i} " * 50 for i in range(5))
    assert gzip.decompress(raw).decode() == expected


def test_stream_declared_smaller_than_minimum_is_left_alone() -> None:
    response, raw = raw_get(make_client(), "/short-stream", **{"accept-encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert raw == b"abcd"


def test_head_request_is_not_compressed() -> None:
    response = make_client().head("/big", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(BIG))


def test_range_and_not_modified_file_responses_are_untouched(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    full = client.get("/file", headers={"accept-encoding": "gzip"})
    assert full.headers["content-encoding"] == "gzip"
    partial = client.get("/file", headers={"accept-encoding": "gzip", "range": "bytes=0-9"})
    assert partial.status_code == 206
    assert "content-encoding" not in partial.headers
    assert partial.content == BIG[:10].encode()
    etag = full.headers["etag"]
    assert etag.startswith("W/")
    cached = client.get("/file", headers={"accept-encoding": "gzip", "if-none-match": etag})
    assert cached.status_code == 304
    assert "content-encoding" not in cached.headers


@pytest.mark.anyio
async def test_each_streamed_chunk_is_flushed_and_decodable_on_arrival() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for index in range(3):
            await send({"type": "http.response.body", "body": b"part%d" % index, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "headers": [(b"accept-encoding", b"gzip")]}
    await GZipMiddleware(app)(scope, receive, send)
    assert (b"content-encoding", b"gzip") in sent[0]["headers"]
    decoder = zlib.decompressobj(31)
    bodies = [m for m in sent[1:] if m["type"] == "http.response.body"]
    assert [decoder.decompress(m["body"]) for m in bodies[:3]] == [b"part0", b"part1", b"part2"]
    assert bodies[-1]["more_body"] is False
    decoder.decompress(bodies[-1]["body"])
    assert decoder.eof


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"gzip", True),
        (b"deflate, gzip;q=0.5", True),
        (b"GZIP", True),
        (b"x-gzip", True),
        (b"*", True),
        (b"br, *;q=0.1", True),
        (b"gzip;q=0, *", False),
        (b"gzip;q=0.0", False),
        (b"gzip;q=bad", False),
        (b"deflate", False),
        (b"", False),
    ],
)
def test_accept_encoding_parsing(header: bytes, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize(
    "options", [{"compresslevel": 0}, {"compresslevel": 10}, {"minimum_size": -1}]
)
def test_invalid_configuration_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        GZipMiddleware(make_client().app, **options)
    assert info.value.code == "gzip-option"
