"""`trivium run` through a database outage: a worker killed meanwhile is replaced.

The database is a real PostgreSQL behind `tests.faults.FaultProxy`, which the test cuts.
A worker that replaces a dead one while the database is down must not count as a crash
loop (which would stop every worker): it logs the outage once, answers 503 on the routes
that use the database, serves the others, and recovers when the database is back. The
very first start with the database down still fails fast.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests import live
from tests.faults import FaultProxy
from tests.faults import fault_proxy

APP = """
import os
from typing import Annotated

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncSession

from trivium import App
from trivium.db import Database

db = Database({url!r}, metadata=MetaData(), timeout=3)
Session = Annotated[AsyncSession, db.depends()]
app = App(plugins=[db])


@app.get("/ping")
async def ping() -> dict[str, int]:
    return {{"pid": os.getpid()}}


@app.get("/db")
async def one(session: Session) -> dict[str, int]:
    return {{"pid": os.getpid(), "one": (await session.execute(text("SELECT 1"))).scalar_one()}}
"""


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    url = os.environ.get("TRIVIUM_TEST_POSTGRES_URL", "")
    if not url:
        pytest.skip("needs TRIVIUM_TEST_POSTGRES_URL")
    with fault_proxy(url) as running:
        yield running


def _project(tmp_path: Path, proxy: FaultProxy) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "outage_app.py").write_text(APP.format(url=proxy.url))
    return folder


def _pids(server: live.Server, path: str, count: int, seconds: float) -> dict[int, int]:
    """GET `path` until `count` workers answered 200 (or time runs out): {pid: answers}."""
    seen: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    while len(seen) < count and time.monotonic() < deadline:
        try:
            response = httpx.get(server.url + path, timeout=5)
        except httpx.TransportError:
            continue  # a connection the killed worker had accepted
        if response.status_code == 200:
            pid = response.json()["pid"]
            seen[pid] = seen.get(pid, 0) + 1
    return seen


@pytest.mark.live
@pytest.mark.parametrize("interface", ["rsgi", "asgi"])
def test_a_worker_killed_during_a_database_outage_is_replaced(
    tmp_path: Path, proxy: FaultProxy, interface: str
) -> None:
    folder = _project(tmp_path, proxy)
    args = ("--workers", "2", "--interface", interface)
    with live.trivium_run(
        "outage_app:app", *args, cwd=folder, ready_path="/db", log_dir=tmp_path
    ) as server:
        workers = _pids(server, "/ping", 2, 10)
        assert len(workers) == 2, server.output()
        proxy.cut()
        assert httpx.get(server.url + "/db", timeout=10).status_code == 503
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)

        replacement = set(_pids(server, "/ping", 2, 15)) - set(workers)
        assert replacement, f"no replacement worker answered:\n{server.output()}"
        assert server.process.poll() is None, server.output()
        statuses = {httpx.get(server.url + "/db", timeout=10).status_code for _ in range(6)}
        assert statuses == {503}

        proxy.restore()
        recovered = _pids(server, "/db", 2, 15)
        assert replacement <= set(recovered), server.output()
    output = server.output()
    assert "Respawning worker-" in output
    assert "crash loop" not in output
    assert "start-up failed" not in output
    assert "Traceback" not in output


@pytest.mark.live
def test_the_first_start_with_the_database_down_still_fails_fast(
    tmp_path: Path, proxy: FaultProxy
) -> None:
    folder = _project(tmp_path, proxy)
    proxy.cut()
    command = live.trivium_command("run", "outage_app:app", "--workers", "2")
    process = subprocess.Popen(  # noqa: S603 - the tests' own command
        [*command, "--port", str(live.free_port())],
        cwd=folder,
        env=live.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        live.stop(process)
    assert process.returncode == 1, output.decode()
    assert b"Respawning" not in output  # a worker that never started is not replaced
