"""A worker that dies does not leave its in-flight requests in `/metrics` forever.

Both processes run apart from the tests: prometheus-client picks per-process files for
its values once per process, from `PROMETHEUS_MULTIPROC_DIR`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_WORKER = """
import os
from prometheus_client import Gauge
gauge = Gauge("trivium_requests_in_flight", "x", ["route", "method"],
              multiprocess_mode="livesum")
gauge.labels("/slow", "GET").set(3)
os._exit(0)  # killed: no clean-up of its files
"""

_SCRAPER = """
from trivium import App
from trivium.observability import Observability
from trivium.testing import TestClient

app = App(plugins=[Observability(metrics=True)])

@app.get("/slow")
async def slow() -> dict:
    return {"ok": True}

with TestClient(app) as client:
    print(client.get("/metrics").text)
"""


def test_gauges_of_dead_workers_are_dropped(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", _WORKER], env=env, check=True)
    dead = list(tmp_path.glob("gauge_livesum_*.db"))
    assert dead
    scrape = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _SCRAPER],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    stale = [
        line
        for line in scrape.stdout.splitlines()
        if line.startswith("trivium_requests_in_flight{") and 'route="/slow"' in line
    ]
    assert all(line.endswith(" 0.0") for line in stale), stale
    assert not any(path.exists() for path in dead)
