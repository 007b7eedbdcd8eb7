"""A mounted WSGI app behind real servers: Granian over ASGI and RSGI, and uvicorn.

What the in-process client can't show: Granian's ASGI `receive` (an awaitable that is
not a coroutine), raw non-ASCII bytes in a query string, HTTP/2 requests (no `Host`
header on RSGI, cookies split into several headers) and a response that fails after
it started (the connection must be cut, not ended as if complete).
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tests import live
from tests.interop.flask_legacy import create_app

from trivium import App
from trivium.interop import WSGIApp

pytestmark = pytest.mark.live

# Known limits of what a server can carry, kept as strict expected failures: each one
# turns into an error the day its cause is fixed, so the mark gets removed.
RSGI_ABORT = (
    "Granian's RSGI has no way to abort a started stream: when the app raises, Granian "
    "ends the stream as complete (chunked: the terminating chunk is sent)"
)


def environ_echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    seen = json.dumps({k: v for k, v in environ.items() if isinstance(v, str)}).encode()
    start_response(
        "200 OK", [("content-type", "application/json"), ("content-length", str(len(seen)))]
    )
    return [seen]


def early_failure(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("content-type", "text/plain")])

    def body() -> Iterator[bytes]:
        raise RuntimeError("the body failed before its first chunk")
        yield b"never"

    return body()


def midstream_failure(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("content-type", "text/plain")])

    def body() -> Iterator[bytes]:
        yield b"first chunk\n"
        time.sleep(0.2)  # the first chunk reaches the client before the failure
        raise RuntimeError("the body failed mid-stream")

    return body()


def own_error_page(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """PEP 3333's error path: a second `start_response` with `exc_info`."""
    start_response("200 OK", [("content-type", "text/plain")])
    try:
        raise ValueError("the view failed after start_response")
    except ValueError:
        start_response("500 Oops", [("content-type", "text/plain")], sys.exc_info())
        return [b"the app's own error page"]


app = App()


@app.get("/ready")
async def ready() -> str:
    return "ok"


app.mount("/legacy", WSGIApp(create_app(), workers=2))
app.mount("/echo", WSGIApp(environ_echo))
app.mount("/early", WSGIApp(early_failure))
app.mount("/midstream", WSGIApp(midstream_failure))
app.mount("/own-error", WSGIApp(own_error_page))

SERVERS = {
    "granian-asgi": ("--interface", "asgi"),
    "granian-rsgi": ("--interface", "rsgi"),
    "uvicorn": ("--server", "uvicorn"),
}


@pytest.fixture(scope="module", params=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, live.Server]]:
    with live.trivium_run(
        "tests.interop.test_live_mount:app",
        *SERVERS[request.param],
        ready_path="/ready",
        timeout=20,
    ) as running:
        yield request.param, running


def raw_request(url: str, head: bytes) -> bytes:
    """Send `head` (a request without body) on a socket; return all the server sends."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_a_form_post_reaches_flask(server: tuple[str, live.Server]) -> None:
    _, running = server
    response = httpx.post(
        running.url + "/legacy/form", data={"name": "Zoë", "tag": ["a", "b"]}, timeout=10
    )
    assert response.status_code == 200, running.output()
    assert response.json() == {"name": "Zoë", "tags": ["a", "b"]}


def test_an_upload_reaches_flask(server: tuple[str, live.Server]) -> None:
    _, running = server
    data = bytes(range(256)) * 400
    response = httpx.post(
        running.url + "/legacy/upload",
        files={"file": ("blob.bin", data)},
        data={"note": "hi"},
        timeout=10,
    )
    assert response.json() == {"filename": "blob.bin", "size": len(data), "note": "hi"}


@pytest.mark.parametrize("value", ["été", "日本"])
def test_a_raw_utf8_query_string_reaches_flask_decoded(
    server: tuple[str, live.Server], request: pytest.FixtureRequest, value: str
) -> None:
    name, running = server
    if name == "uvicorn":
        pytest.skip("uvicorn refuses a request line with raw non-ASCII bytes (400)")
    head = f"GET /legacy/hello?name={value} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = raw_request(running.url, head.encode())
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200"), answer
    assert json.loads(body)["hello"] == value


def test_a_raw_utf8_query_string_is_latin1_in_the_environ_as_pep_3333_says(
    server: tuple[str, live.Server], request: pytest.FixtureRequest
) -> None:
    name, running = server
    if name == "uvicorn":
        pytest.skip("uvicorn refuses a request line with raw non-ASCII bytes (400)")
    head = "GET /echo/?x=été HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    body = raw_request(running.url, head.encode()).partition(b"\r\n\r\n")[2]
    assert json.loads(body)["QUERY_STRING"] == "x=été".encode().decode("latin-1")


def test_an_http2_request_gives_the_legacy_app_a_host_and_one_cookie_header(
    server: tuple[str, live.Server],
) -> None:
    name, running = server
    if name == "uvicorn":
        pytest.skip("uvicorn does not speak HTTP/2")
    with httpx.Client(http1=False, http2=True, timeout=10) as client:
        # HTTP/2 clients send each cookie in a header of its own (RFC 7540 8.1.2.5).
        response = client.get(
            running.url + "/echo/", headers=[("cookie", "a=1"), ("cookie", "b=2")]
        )
    assert response.http_version == "HTTP/2"
    environ = response.json()
    port = urlsplit(running.url).port
    assert environ["HTTP_HOST"] == f"127.0.0.1:{port}"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"


def test_a_header_name_with_an_underscore_never_reaches_the_legacy_app(
    server: tuple[str, live.Server],
) -> None:
    _, running = server
    headers = [("X-Remote-User", "alice"), ("X-Remote_User", "admin"), ("X-Forwarded_For", "1")]
    environ = httpx.get(running.url + "/echo/", headers=headers, timeout=10).json()
    assert environ["HTTP_X_REMOTE_USER"] == "alice"
    assert "HTTP_X_FORWARDED_FOR" not in environ


def test_a_body_failing_before_its_first_chunk_is_answered_500(
    server: tuple[str, live.Server],
) -> None:
    _, running = server
    response = httpx.get(running.url + "/early/", timeout=10)
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_start_response_with_exc_info_before_the_body_sends_the_apps_error_page(
    server: tuple[str, live.Server],
) -> None:
    _, running = server
    response = httpx.get(running.url + "/own-error/", timeout=10)
    assert response.status_code == 500
    assert response.text == "the app's own error page"


def test_a_body_failing_mid_stream_cuts_the_connection(
    server: tuple[str, live.Server], request: pytest.FixtureRequest
) -> None:
    name, running = server
    if name == "granian-rsgi":
        request.applymarker(pytest.mark.xfail(reason=RSGI_ABORT))
    received = bytearray()

    def read_all(response: httpx.Response) -> None:
        for chunk in response.iter_raw():
            received.extend(chunk)

    with (
        httpx.Client(timeout=5) as client,
        client.stream("GET", running.url + "/midstream/") as response,
    ):
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):  # incomplete chunked read
            read_all(response)
    assert received == b"first chunk\n"
