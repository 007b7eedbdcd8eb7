"""Request and response bodies between real servers and a mounted WSGI app.

Granian over ASGI and RSGI, and uvicorn: an upload the client cuts off (a declared
length not reached, a chunked body cut mid-chunk) fails the Flask view instead of
reaching it as a shorter body; a response longer than its `Content-Length` reaches the
client cut to that length on every server; an HTTP/1.0 request is `HTTP/1.0` in
`SERVER_PROTOCOL`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from flask import Flask
from flask import request
from tests import live

from trivium import App
from trivium.interop import WSGIApp

pytestmark = pytest.mark.live

flask_app = Flask(__name__)
uploads: dict[str, Any] = {}  # tag -> bytes saved, or the error the read raised
lock = threading.Lock()


@flask_app.post("/save/<tag>")
def save(tag: str) -> str:
    try:
        data = request.get_data()
    except OSError as exc:
        with lock:
            uploads[tag] = type(exc).__name__
        raise
    with lock:
        uploads[tag] = len(data)
    return "saved"


@flask_app.get("/saved/<tag>")
def saved(tag: str) -> dict[str, Any]:
    with lock:
        return {"result": uploads.get(tag)}


def protocol(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["SERVER_PROTOCOL"].encode()
    start_response("200 OK", [("content-type", "text/plain"), ("content-length", str(len(body)))])
    return [body]


def overlong(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("content-type", "text/plain"), ("content-length", "8")])
    yield b"12345"
    yield b"67890abc"


app = App()


@app.get("/ready")
async def ready() -> str:
    return "ok"


app.mount("/legacy", WSGIApp(flask_app, workers=2))
app.mount("/protocol", WSGIApp(protocol))
app.mount("/overlong", WSGIApp(overlong))

SERVERS = {
    "granian-asgi": ("--interface", "asgi"),
    "granian-rsgi": ("--interface", "rsgi"),
    "uvicorn": ("--server", "uvicorn"),
}


@pytest.fixture(scope="module", params=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[live.Server]:
    with live.trivium_run(
        "tests.interop.test_live_wsgi_body:app",
        *SERVERS[request.param],
        ready_path="/ready",
        timeout=20,
    ) as running:
        yield running


def connect(url: str) -> socket.socket:
    address = urlsplit(url)
    return socket.create_connection((address.hostname, address.port), timeout=10)


def exchange(url: str, raw: bytes) -> bytes:
    """Send `raw` on a socket; return all the server sends until it closes."""
    with connect(url) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def cut_off(url: str, head: bytes, body: bytes) -> None:
    """Send a request head and part of its body, then close the connection."""
    with connect(url) as sock:
        sock.sendall(head + body)
        time.sleep(0.2)  # the server reads what was sent before it sees the end


def result(url: str, tag: str) -> Any:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen = httpx.get(f"{url}/legacy/saved/{tag}", timeout=5).json()["result"]
        if seen is not None:
            return seen
        time.sleep(0.05)
    return None


def test_an_upload_cut_short_of_its_length_fails_the_view(server: live.Server) -> None:
    head = (
        b"POST /legacy/save/length HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
    )
    cut_off(server.url, head, b"x" * 500_000)
    assert result(server.url, "length") == "ClientDisconnectedError", server.output()


def test_a_chunked_upload_cut_mid_chunk_fails_the_view(server: live.Server) -> None:
    head = (
        b"POST /legacy/save/chunked HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    body = b"8000\r\n" + b"x" * 0x8000 + b"\r\n" + b"8000\r\n" + b"x" * 1000
    cut_off(server.url, head, body)
    assert result(server.url, "chunked") == "ClientDisconnectedError", server.output()


def test_a_whole_upload_still_reaches_the_view(server: live.Server) -> None:
    response = httpx.post(f"{server.url}/legacy/save/whole", content=b"x" * 300_000, timeout=10)
    assert response.text == "saved"
    assert result(server.url, "whole") == 300_000


def test_an_http_1_0_request_is_http_1_0_in_server_protocol(server: live.Server) -> None:
    received = exchange(server.url, b"GET /protocol/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    assert received.split(b"\r\n\r\n", 1)[1] == b"HTTP/1.0"
    assert httpx.get(server.url + "/protocol/").text == "HTTP/1.1"


def test_a_body_longer_than_its_content_length_reaches_the_client_cut_to_it(
    server: live.Server,
) -> None:
    received = exchange(
        server.url, b"GET /overlong/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    head, body = received.split(b"\r\n\r\n", 1)
    assert b"content-length: 8" in head.lower()
    assert body == b"12345678"
