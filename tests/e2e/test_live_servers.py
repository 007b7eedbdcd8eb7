"""The same app behind real servers: Granian RSGI (the default), Granian ASGI and uvicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(
    params=[["--interface", "rsgi"], ["--interface", "asgi"], ["--server", "uvicorn"]],
    ids=["rsgi", "asgi", "uvicorn"],
)
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trivium.cli",
            "run",
            "tests.e2e.live_app:app",
            "--port",
            str(port),
            *request.param,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/plaintext", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start within 20 s")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def test_plain_and_json_requests(server: str) -> None:
    assert httpx.get(server + "/plaintext").json() == "hello"
    response = httpx.post(server + "/echo", json={"a": [1, 2]})
    assert response.json() == {"a": [1, 2]}
    assert (
        httpx.post(
            server + "/echo", content=b"{", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_server_sent_events_stream_ends(server: str) -> None:
    started = time.monotonic()
    with httpx.stream("GET", server + "/events", params={"count": 3}, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data:")]
    assert lines == ["data: 0", "data: 1", "data: 2"]
    assert time.monotonic() - started < 5


def test_websocket_echo(server: str) -> None:
    from websockets.sync.client import connect

    with connect(server.replace("http", "ws") + "/ws", open_timeout=5) as ws:
        ws.send("hi")
        assert ws.recv(timeout=5) == "echo: hi"
