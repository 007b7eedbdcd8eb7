"""docs/deployment.md tried for real: two `trivium run` servers behind a reverse proxy.

A small reverse proxy (the part of nginx's job the guide relies on: round-robin over
upstreams, `X-Forwarded-For`/`-Proto`, retrying the next upstream when one refuses the
connection) spreads requests over two servers; sessions live in Redis, so a client
keeps its session whichever server answers, and restarting one server at a time loses
no request.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from tests import live

REDIS = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not REDIS, reason="needs TRIVIUM_TEST_REDIS_URL"),
]


class Proxy(ThreadingHTTPServer):
    """Round-robin reverse proxy over `upstreams`, retrying the next on a connection error."""

    daemon_threads = True

    def __init__(self, upstreams: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstreams = upstreams
        self.turn = itertools.cycle(range(len(upstreams)))
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    server: Proxy

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        headers["X-Forwarded-For"] = "198.51.100.7"  # as the proxy saw the client
        headers["X-Forwarded-Proto"] = "http"  # what the client used (https behind TLS)
        with self.server.lock:
            start = next(self.server.turn)
        upstreams = self.server.upstreams
        for attempt in range(len(upstreams)):
            upstream = upstreams[(start + attempt) % len(upstreams)]
            try:
                # A client per request: a proxy keeps no cookie jar of its own.
                with httpx.Client(timeout=10) as client:
                    response = client.get(upstream + self.path, headers=headers)
            except (httpx.ConnectError, httpx.RemoteProtocolError):
                # nginx's `proxy_next_upstream error`: refused, or closed before the
                # response header (a server stopping as the connection came in); a GET
                # is retried on the next upstream.
                continue
            self.send_response(response.status_code)
            for name, value in response.headers.multi_items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)
            return
        self.send_error(502)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def _start(port: int, logs: Path) -> subprocess.Popen[bytes]:
    env = live.environment(TRIVIUM_PORT=str(port), TRIVIUM_SHUTDOWN_TIMEOUT="5")
    command = live.trivium_command("run", "tests.e2e.deploy_app:app", "--workers", "2")
    log = logs / f"server-{port}.log"
    server = live.Server(f"http://127.0.0.1:{port}", live.start(command, log=log, env=env), log)
    live.wait_until_ready(
        server, "/readyz", ready=lambda response: response.status_code == 200, timeout=20
    )
    return server.process


def _stop(process: subprocess.Popen[bytes]) -> None:
    live.stop(process, signal.SIGTERM, grace=15)


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Proxy, dict[int, subprocess.Popen[bytes]]]]:
    ports = [live.free_port(), live.free_port()]
    logs = tmp_path_factory.mktemp("servers")
    servers = {port: _start(port, logs) for port in ports}
    proxy = Proxy([f"http://127.0.0.1:{port}" for port in ports])
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy, servers
    finally:
        proxy.shutdown()
        proxy.server_close()
        for process in servers.values():
            _stop(process)


def test_two_servers_share_sessions_through_redis(
    cluster: tuple[Proxy, dict[int, subprocess.Popen[bytes]]],
) -> None:
    proxy, servers = cluster
    with httpx.Client(base_url=proxy.url) as client:
        answers = [client.get("/count").json() for _ in range(6)]
    assert [answer["n"] for answer in answers] == [1, 2, 3, 4, 5, 6]
    assert {answer["server"] for answer in answers} == {str(port) for port in servers}
    # Proxy headers are believed from the proxy only: the client's address and scheme.
    assert {(answer["client"], answer["scheme"]) for answer in answers} == {
        ("198.51.100.7", "http")
    }


def test_request_ids_pass_through_the_proxy(
    cluster: tuple[Proxy, dict[int, subprocess.Popen[bytes]]],
) -> None:
    proxy, _ = cluster
    response = httpx.get(proxy.url + "/count", headers={"X-Request-ID": "edge-42"})
    assert response.headers["x-request-id"] == "edge-42"


def test_restarting_one_server_at_a_time_loses_no_request(
    cluster: tuple[Proxy, dict[int, subprocess.Popen[bytes]]], tmp_path: Path
) -> None:
    proxy, servers = cluster
    failures: list[int] = []
    done = threading.Event()
    counts: list[int] = []

    def traffic() -> None:
        with httpx.Client(base_url=proxy.url) as client:
            while not done.is_set():
                response = client.get("/count")
                if response.status_code != 200:
                    failures.append(response.status_code)
                else:
                    counts.append(int(response.json()["n"]))

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        for port in list(servers):  # a rolling restart, as the guide describes
            _stop(servers[port])
            servers[port] = _start(port, tmp_path)
    finally:
        done.set()
        thread.join(20)
    assert failures == []
    assert len(counts) > 10
    assert counts == list(range(1, len(counts) + 1))  # one session throughout
