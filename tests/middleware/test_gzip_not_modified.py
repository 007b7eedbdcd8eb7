"""A `304` for a compressible resource carries the `ETag` and `Vary` its `200` would have.

RFC 9110 §15.4.5: a cache updates its stored response from the `304`'s headers, so a
`304` with the strong `ETag` and no `Vary: Accept-Encoding` would undo what the
compressed `200` said.
"""

from __future__ import annotations

from pathlib import Path

from trivium import App
from trivium import Request
from trivium.middleware import GZipMiddleware
from trivium.middleware import Middleware
from trivium.responses import FileResponse
from trivium.responses import Response
from trivium.testing import TestClient

BIG = "trivium " * 200  # 1600 bytes
GZIP = {"accept-encoding": "gzip"}
PLAIN = {"accept-encoding": "identity"}  # the test client asks for gzip unless told


def make_client(tmp_path: Path) -> TestClient:
    app = App(middleware=[Middleware(GZipMiddleware)], openapi_url=None)
    file = tmp_path / "big.txt"
    file.write_text(BIG)

    @app.get("/file")
    async def serve_file() -> FileResponse:
        return FileResponse(file)

    @app.get("/png")
    async def png(request: Request) -> Response:
        if request.headers.get("if-none-match") == '"p1"':
            return Response(status_code=304, headers={"etag": '"p1"', "content-type": "image/png"})
        return Response(b"\x89PNG" + b"\0" * 2000, media_type="image/png", headers={"etag": '"p1"'})

    @app.get("/sized")
    async def sized() -> Response:
        return Response(status_code=304, headers={"etag": '"s1"', "content-length": "10"})

    @app.get("/encoded")
    async def encoded() -> Response:
        return Response(status_code=304, headers={"etag": '"e1"', "content-encoding": "br"})

    return TestClient(app)


def test_not_modified_keeps_the_weak_etag_and_vary_of_the_compressed_200(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    full = client.get("/file", headers=GZIP)
    assert full.headers["content-encoding"] == "gzip"
    cached = client.get("/file", headers={**GZIP, "if-none-match": full.headers["etag"]})
    assert cached.status_code == 304
    assert cached.headers["etag"] == full.headers["etag"]
    assert cached.headers["etag"].startswith("W/")
    assert cached.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in cached.headers
    assert cached.content == b""


def test_not_modified_without_gzip_keeps_the_strong_etag_but_varies(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    full = client.get("/file", headers=PLAIN)
    assert not full.headers["etag"].startswith("W/")
    cached = client.get("/file", headers={**PLAIN, "if-none-match": full.headers["etag"]})
    assert cached.status_code == 304
    assert cached.headers["etag"] == full.headers["etag"]
    assert cached.headers["vary"] == "Accept-Encoding"


def test_not_modified_for_an_excluded_type_is_left_alone(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    full = client.get("/png", headers=GZIP)
    assert "vary" not in full.headers
    cached = client.get("/png", headers={**GZIP, "if-none-match": '"p1"'})
    assert cached.status_code == 304
    assert cached.headers["etag"] == '"p1"'
    assert "vary" not in cached.headers


def test_not_modified_below_minimum_size_keeps_the_strong_etag(tmp_path: Path) -> None:
    cached = make_client(tmp_path).get("/sized", headers=GZIP)
    assert cached.status_code == 304
    assert cached.headers["etag"] == '"s1"'
    assert cached.headers["vary"] == "Accept-Encoding"


def test_not_modified_of_an_already_encoded_body_is_left_alone(tmp_path: Path) -> None:
    cached = make_client(tmp_path).get("/encoded", headers=GZIP)
    assert cached.status_code == 304
    assert cached.headers["etag"] == '"e1"'
    assert "vary" not in cached.headers


def test_not_modified_to_head_keeps_the_strong_etag(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    etag = client.get("/file", headers=PLAIN).headers["etag"]
    cached = client.head("/file", headers={**GZIP, "if-none-match": etag})
    assert cached.status_code == 304
    assert cached.headers["etag"] == etag
