"""Request bodies and `raw_path` over Granian's RSGI interface, as over its ASGI one.

The last tests pin what Granian's RSGI interface (2.8) can't carry (docs/deployment.md,
"Where RSGI and ASGI differ"): they are expected to fail there, strictly, so that a
Granian that lifts a limit shows up here.

Granian's RSGI protocol reads a whole body with `await protocol()`, which raises when the
body breaks, and iterates it with `async for`, which ends quietly instead (one empty
chunk more). A client that abandons an upload, or a chunked body with a malformed chunk
size, must get an empty 400 without the handler running, as on ASGI, on the direct RSGI
path and through user middleware alike; a body that is fine must still be read whole.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import pytest
from tests import live

from trivium import App
from trivium import Cookie
from trivium import Header
from trivium import Request
from trivium import Response
from trivium.middleware import Middleware
from trivium.responses import StreamingResponse
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

pytestmark = pytest.mark.live


class PassThrough:
    """A user middleware: the app is then served through the ASGI adapters of RSGI."""

    def __init__(self, app: object) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)  # type: ignore[operator]


async def echo_raw_path(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["raw_path"]})


def _app(*middleware: Middleware) -> App:
    app = App(middleware=list(middleware), openapi_url=None)

    @app.get("/ready")
    async def ready() -> str:
        return "ok"

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"len": len(await request.body())}

    @app.post("/json")
    async def echo(payload: dict[str, int]) -> dict[str, int]:
        return payload

    @app.get("/whoami")
    async def whoami(
        session: Annotated[str | None, Cookie()] = None,
        x_name: Annotated[str | None, Header()] = None,
    ) -> dict[str, str | None]:
        return {"session": session, "x_name": x_name}

    @app.get("/download")
    async def download(response: Response) -> dict[str, str]:
        response.headers["content-disposition"] = 'attachment; filename="caf\u00e9.txt"'
        return {}

    @app.get("/export")
    async def export() -> StreamingResponse:
        async def rows() -> AsyncIterator[bytes]:
            yield b"id,name\n1,ann\n"
            raise RuntimeError("the database went away")

        return StreamingResponse(rows(), media_type="text/csv")

    app.mount("/echo", echo_raw_path)
    return app


app = _app()
wrapped = _app(Middleware(PassThrough))


@pytest.fixture(
    scope="module",
    params=[("rsgi", "app"), ("rsgi", "wrapped"), ("asgi", "app")],
    ids=["rsgi", "rsgi-middleware", "asgi"],
)
def served(request: pytest.FixtureRequest) -> tuple[str, str]:
    """The interface and the app (with or without user middleware) the server runs."""
    interface, target = request.param
    return interface, target


@pytest.fixture(scope="module")
def server(served: tuple[str, str]) -> Iterator[live.Server]:
    interface, target = served
    with live.trivium_run(
        f"{__name__}:{target}", "--interface", interface, ready_path="/ready", timeout=20
    ) as running:
        yield running


def _exchange(server: live.Server, request: bytes, *, hang_up: bool = False) -> bytes:
    """Send `request` on a new connection (then stop sending, if `hang_up`); the answer."""
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        if hang_up:
            time.sleep(0.2)
            sock.shutdown(socket.SHUT_WR)
        sock.settimeout(5)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except OSError:
            pass
    return data


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _post(path: bytes, headers: bytes, body: bytes) -> bytes:
    return (
        b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\n" + headers + b"\r\n" + body
    )


@pytest.mark.parametrize("path", [b"/raw", b"/json"])
def test_an_abandoned_upload_gets_an_empty_400_and_no_error_log(
    server: live.Server, path: bytes
) -> None:
    answer = _exchange(server, _post(path, b"Content-Length: 1000\r\n", b'{"a": 1'), hang_up=True)
    assert _status(answer) == 400, answer
    assert answer.endswith(b"\r\n\r\n"), answer  # no body
    time.sleep(0.2)
    assert "RSGIProtocolClosed" not in server.output()
    assert "ClientDisconnect" not in server.output()


CHUNKED = b"Transfer-Encoding: chunked\r\n"


@pytest.mark.parametrize("path", [b"/raw", b"/json"])
@pytest.mark.parametrize(
    ("body", "hang_up"),
    [
        (b"3\r\nabcdef\r\n0\r\n\r\n", False),  # more bytes than the chunk size says
        (b"zz\r\nabcdef\r\n0\r\n\r\n", False),  # a chunk size that is not hex
        (b"a\r\n0123456789\r\n", True),  # the client leaves before the last chunk
    ],
    ids=["long-chunk", "bad-size", "no-last-chunk"],
)
def test_a_broken_chunked_body_never_reaches_the_handler(
    server: live.Server, path: bytes, body: bytes, hang_up: bool
) -> None:
    answer = _exchange(server, _post(path, CHUNKED, body), hang_up=hang_up)
    assert _status(answer) == 400, answer
    assert b'"len"' not in answer


def test_a_chunked_body_is_read_whole(server: live.Server) -> None:
    body = b'4\r\n{"a"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\n\r\n'
    for path, expected in ((b"/raw", {"len": 8}), (b"/json", {"a": 1})):
        answer = _exchange(server, _post(path, CHUNKED, body))
        assert _status(answer) == 200, answer
        assert json.loads(answer.partition(b"\r\n\r\n")[2]) == expected


def test_a_chunked_body_with_announced_trailers_is_read_whole(server: live.Server) -> None:
    body = b"3\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n"
    answer = _exchange(server, _post(b"/raw", CHUNKED + b"Trailer: X-Checksum\r\n", body))
    assert _status(answer) == 200, answer
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {"len": 3}


def test_an_http2_upload_of_unknown_length_is_read_whole(server: live.Server) -> None:
    # httpx ends a streamed HTTP/2 body with an empty DATA frame: not a broken body.
    def pieces() -> Iterator[bytes]:
        yield b"abc"
        yield b"def"

    with httpx.Client(http1=False, http2=True, timeout=10) as client:
        streamed = client.post(server.url + "/raw", content=pieces())
        whole = client.post(server.url + "/json", json={"a": 1})
    assert streamed.http_version == "HTTP/2"
    assert (streamed.status_code, streamed.json()) == (200, {"len": 6})
    assert (whole.status_code, whole.json()) == (200, {"a": 1})


@pytest.mark.parametrize(
    "target",
    [b"/echo/a%3Fb", b"/echo/100%25", b"/echo/a%20b", b"/echo/caf%C3%A9", b"/echo/@me;v=1"],
)
def test_a_mounted_app_sees_the_raw_path_the_client_sent(
    server: live.Server, target: bytes
) -> None:
    answer = _exchange(
        server, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    assert _status(answer) == 200, answer
    assert answer.partition(b"\r\n\r\n")[2] == target


def _get(server: live.Server, target: bytes, headers: bytes = b"") -> bytes:
    return _exchange(
        server,
        b"GET "
        + target
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + headers
        + b"\r\n",
    )


def _granian_limit(request: pytest.FixtureRequest, served: tuple[str, str], reason: str) -> None:
    if served[0] == "rsgi":
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"Granian RSGI: {reason}"))


def test_a_mounted_app_sees_an_encoded_slash_as_sent(
    server: live.Server, served: tuple[str, str], request: pytest.FixtureRequest
) -> None:
    _granian_limit(request, served, "the path is handed over decoded; %2F can't be told from /")
    answer = _get(server, b"/echo/a%2Fb")
    assert answer.partition(b"\r\n\r\n")[2] == b"/echo/a%2Fb"


def test_a_request_header_with_utf8_bytes_reaches_the_app(
    server: live.Server, served: tuple[str, str], request: pytest.FixtureRequest
) -> None:
    _granian_limit(request, served, "header values that are not visible ASCII are dropped")
    headers = "Cookie: session=abc; pref=café\r\nX-Name: José\r\n".encode()
    answer = _get(server, b"/whoami", headers)
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["session"] == "abc"


def test_a_latin1_response_header_goes_out_as_latin1(
    server: live.Server, served: tuple[str, str], request: pytest.FixtureRequest
) -> None:
    _granian_limit(request, served, "header values are str, sent as UTF-8")
    answer = _get(server, b"/download")
    assert b'filename="caf\xe9.txt"' in answer.partition(b"\r\n\r\n")[0]


def test_a_stream_failing_midway_is_cut_visibly(
    server: live.Server, served: tuple[str, str], request: pytest.FixtureRequest
) -> None:
    _granian_limit(request, served, "a started stream can't be aborted")
    answer = _get(server, b"/export")
    assert b"1,ann" in answer
    assert not answer.endswith(b"\r\n0\r\n\r\n")
