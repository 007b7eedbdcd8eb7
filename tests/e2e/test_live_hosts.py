"""The `Host` header checks on real servers, with requests written byte by byte.

A forged `Host` must never become the app's base URL (password-reset links are built
from it), with or without `TrustedHostMiddleware`, and HTTP/1.1 requires a 400 for two
`Host` headers, an invalid one, or none.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from tests.e2e.live import SERVER_ARGS
from tests.e2e.live import SERVER_IDS
from tests.e2e.live import serving

pytestmark = pytest.mark.live

FORGED = [
    "example.com:@evil.example",
    "evil.example#.example.com",
    "evil.example/.example.com",
    "evil.example?.example.com",
]


@pytest.fixture(scope="module", params=SERVER_ARGS, ids=SERVER_IDS)
def servers(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    with (
        serving("tests.e2e.live_app:app", request.param) as bare,
        serving("tests.e2e.live_app:guarded", request.param) as guarded,
    ):
        yield {"bare": bare, "guarded": guarded}


def raw_request(base: str, head: str) -> tuple[int, dict[str, str], bytes]:
    """Send `head` (request line and headers, CRLF-separated) and read the response."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    header_block, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = header_block.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize("app", ["bare", "guarded"])
@pytest.mark.parametrize("host", FORGED)
def test_forged_host_is_refused_before_any_url_is_built(
    servers: dict[str, str], app: str, host: str
) -> None:
    status, headers, body = raw_request(
        servers[app], f"GET /base HTTP/1.1\r\nHost: {host}\r\nConnection: close"
    )
    assert status == 400
    assert json.loads(body)["detail"].startswith("Invalid Host header: ")
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("app", ["bare", "guarded"])
def test_two_host_headers_are_refused(servers: dict[str, str], app: str) -> None:
    status, _, body = raw_request(
        servers[app],
        "GET /base HTTP/1.1\r\nHost: a.example.com\r\nHost: evil.example\r\nConnection: close",
    )
    assert status == 400
    assert "more than one Host header" in json.loads(body)["detail"]


def test_http11_request_without_host_is_refused(servers: dict[str, str]) -> None:
    status, _, _ = raw_request(servers["bare"], "GET /base HTTP/1.1\r\nConnection: close")
    assert status == 400


def test_http10_request_without_host_uses_the_server_address(servers: dict[str, str]) -> None:
    status, _, body = raw_request(servers["bare"], "GET /base HTTP/1.0")
    assert status == 200
    assert json.loads(body) == servers["bare"] + "/"


def test_allowed_subdomain_becomes_the_base_url(servers: dict[str, str]) -> None:
    status, _, body = raw_request(
        servers["guarded"], "GET /base HTTP/1.1\r\nHost: api.example.com:8443\r\nConnection: close"
    )
    assert status == 200
    assert json.loads(body) == "http://api.example.com:8443/"
