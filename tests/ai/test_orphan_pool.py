"""A server worker killed outright does not leave its model's pool processes running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

_MODEL = """
import os

def load():
    return {"w": 2}

def pool_pid(model):
    return os.getpid()
"""

_WORKER = """
import asyncio, sys, time
from trivium import App
from trivium.ai import Model
from trivium.testing import TestClient
from orphan_model import load, pool_pid

model = Model(load, executor="process", workers=2)
app = App(plugins=[model])

@app.get("/pids")
async def pids() -> dict:
    found = set()
    for _ in range(20):
        found.update(await asyncio.gather(*(model.run(pool_pid) for _ in range(4))))
    return {"pids": sorted(found)}

with TestClient(app) as client:
    print(*client.get("/pids").json()["pids"], flush=True)
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (not reaped yet) is gone too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_pool_processes_exit_when_their_worker_is_killed(tmp_path: Path) -> None:
    (tmp_path / "orphan_model.py").write_text(_MODEL)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    with subprocess.Popen(
        [sys.executable, "-c", _WORKER], env=env, stdout=subprocess.PIPE, text=True
    ) as worker:
        pids = _pool_pids(worker)
    deadline = time.monotonic() + 6
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in pids if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"pool processes {left} outlived their killed worker"


def _pool_pids(worker: subprocess.Popen[str]) -> list[int]:
    """Read the pool's processes from `worker`, then kill it outright."""
    try:
        assert worker.stdout is not None
        pids = [int(pid) for pid in worker.stdout.readline().split()]
        assert pids
        assert all(_alive(pid) for pid in pids)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    return pids
