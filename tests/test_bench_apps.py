"""The benchmark suites' apps still build and answer (a rule tightened later must not
silently break a benchmark that CI's smoke run does not start).

Each app is imported in a fresh interpreter, as `trivium run` would, on the embedded
defaults (no Redis, no database), and its routes are called through the test client.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import importlib, sys
from trivium.testing import TestClient
module = importlib.import_module(sys.argv[1])
with TestClient(module.app) as client:
    for path in sys.argv[2:]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text)
        print(path, dict(response.headers))
"""


@pytest.mark.parametrize(
    ("module", "paths"),
    [
        ("bench.ratelimit.app", ["/plain", "/stepped", "/gated", "/limited", "/limited-by-user"]),
        ("bench.cache.app", []),
        ("bench.interop.app", []),
        ("bench.observability.app", []),
    ],
)
def test_bench_app_builds_and_answers(module: str, paths: list[str]) -> None:
    proc = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", CHECK, module, *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    if module == "bench.ratelimit.app":
        # Every request is admitted: the limit is far above what one worker serves.
        assert "'ratelimit-remaining'" in proc.stdout
