"""Exact across processes: 4 server workers sharing Redis admit exactly N of a limit of N."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import trivium

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(trivium.__file__).resolve().parents[1]
LIMIT = 25


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, int]:
    # A new connection each time, so the server's workers share the requests.
    answer = httpx.get(url, timeout=10, headers={"connection": "close"})
    return answer.status_code, answer.json() if answer.status_code == 200 else 0


@pytest.mark.live
def test_four_workers_admit_exactly_the_limit(redis_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "RL_TEST_REDIS_URL": redis_url,
        "RL_TEST_PREFIX": f"rl-test-{uuid.uuid4().hex[:8]}:",
        "RL_TEST_LIMIT": str(LIMIT),
    }
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "trivium.cli", "run", "tests.ratelimit.workers_app:app"]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, "--workers", "4", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        pids: set[int] = set()
        deadline = time.monotonic() + 30
        while len(pids) < 4 and time.monotonic() < deadline:  # every worker is up
            if process.poll() is not None:
                pytest.fail(f"server exited:\n{log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                pids.add(_get(f"{base}/")[1])
            time.sleep(0.02)
        assert len(pids) == 4, log.read_text()
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(_get, [f"{base}/hit"] * (LIMIT * 3)))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    statuses = [status for status, _ in answers]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == LIMIT * 2
    assert len({pid for status, pid in answers if status == 200}) > 1  # several workers admitted
