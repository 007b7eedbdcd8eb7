"""Exact across processes: 4 server workers sharing Redis admit exactly N of a limit of N."""

from __future__ import annotations

import contextlib
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tests import live

LIMIT = 25


def _get(url: str) -> tuple[int, int]:
    # A new connection each time, so the server's workers share the requests.
    answer = httpx.get(url, timeout=10, headers={"connection": "close"})
    return answer.status_code, answer.json() if answer.status_code == 200 else 0


@pytest.mark.live
def test_four_workers_admit_exactly_the_limit(redis_url: str, tmp_path: Path) -> None:
    env = live.environment(
        RL_TEST_REDIS_URL=redis_url,
        RL_TEST_PREFIX=f"rl-test-{uuid.uuid4().hex[:8]}:",
        RL_TEST_LIMIT=str(LIMIT),
    )
    app = "tests.ratelimit.workers_app:app"
    with live.trivium_run(app, "--workers", "4", env=env, log_dir=tmp_path) as server:
        pids: set[int] = set()
        deadline = time.monotonic() + 30
        while len(pids) < 4 and time.monotonic() < deadline:  # every worker is up
            with contextlib.suppress(httpx.TransportError):
                pids.add(_get(f"{server.url}/")[1])
            time.sleep(0.02)
        assert len(pids) == 4, server.output()
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(_get, [f"{server.url}/hit"] * (LIMIT * 3)))
    statuses = [status for status, _ in answers]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == LIMIT * 2
    assert len({pid for status, pid in answers if status == 200}) > 1  # several workers admitted
