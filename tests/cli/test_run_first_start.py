"""`trivium run --respawn`: the first start fails fast, later deaths are replaced.

Until a worker of the server has finished its start-up, a worker that dies is not
started again: a first start that fails (here a database nobody listens for) stops the
server after the worker's one line. Once the server has served, a dead worker is
replaced, and a replacement that dies at once is a crash loop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from tests import live

DATABASE_APP = """
import os

from trivium import App
from trivium.db import Database

db = Database(os.environ["APP_DATABASE_URL"], timeout=3)
app = App()
db.init_app(app)


@app.get("/")
async def root() -> int:
    return 1
"""

# A worker dies during its start-up once the file APP_DIE_FLAG names exists.
DIES_ONCE_FLAGGED_APP = """
import os
import signal
from pathlib import Path

from tests.cli.sample_app import SampleApp


class DiesOnceFlagged(SampleApp):
    def __rsgi_init__(self, loop):
        if Path(os.environ["APP_DIE_FLAG"]).exists():
            os.kill(os.getpid(), signal.SIGKILL)


app = DiesOnceFlagged()
"""


def _run_to_the_end(folder: Path, *args: str, **env: str) -> tuple[int, str]:
    """Run `trivium run ARGS` in `folder` until it exits; return its status and output."""
    process = subprocess.Popen(  # noqa: S603 - the tests' own command
        live.trivium_command("run", *args, "--port", str(live.free_port())),
        cwd=folder,
        env=live.environment(folder, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        live.stop(process)
    return process.returncode, output.decode(errors="replace")


@pytest.mark.live
@pytest.mark.parametrize("interface", ["rsgi", "asgi"])
def test_a_first_start_without_the_database_stops_the_server_without_a_respawn(
    tmp_path: Path, interface: str
) -> None:
    (tmp_path / "db_app.py").write_text(DATABASE_APP)
    url = f"postgresql://app@127.0.0.1:{live.free_port()}/app"  # nothing listens there
    status, output = _run_to_the_end(
        tmp_path, "db_app:app", "--interface", interface, APP_DATABASE_URL=url
    )
    assert status == 1, output
    assert "Respawning" not in output
    assert "crash loop" not in output
    if interface == "rsgi":
        failures = [line for line in output.splitlines() if "db-unreachable" in line]
        assert len(failures) == 1, output
        assert "start-up failed: [db-unreachable]" in failures[0]
        assert "Traceback" not in output


@pytest.mark.live
def test_a_first_start_that_fails_in_two_workers_is_not_respawned(tmp_path: Path) -> None:
    (tmp_path / "db_app.py").write_text(DATABASE_APP)
    url = f"postgresql://app@127.0.0.1:{live.free_port()}/app"
    status, output = _run_to_the_end(tmp_path, "db_app:app", "--workers", "2", APP_DATABASE_URL=url)
    assert status == 1, output
    assert "Respawning" not in output
    failures = [line for line in output.splitlines() if "start-up failed" in line]
    assert 1 <= len(failures) <= 2, output  # at most one line per worker


@pytest.mark.live
def test_a_replacement_that_dies_at_start_up_is_a_crash_loop(tmp_path: Path) -> None:
    (tmp_path / "respawn_app.py").write_text(DIES_ONCE_FLAGGED_APP)
    flag = tmp_path / "die"
    server = live.launch(
        "respawn_app:app",
        "--workers",
        "2",
        cwd=tmp_path,
        env=live.environment(tmp_path, APP_DIE_FLAG=str(flag)),
        log_dir=tmp_path,
    )
    try:
        live.wait_until_ready(server)
        pids: set[int] = set()
        deadline = time.monotonic() + 10
        while len(pids) < 2 and time.monotonic() < deadline:
            pids.add(httpx.get(server.url, timeout=5).json()["pid"])
        assert len(pids) == 2, server.output()
        flag.touch()
        os.kill(min(pids), signal.SIGKILL)
        server.process.wait(30)
    finally:
        live.stop(server.process)
    output = server.output()
    assert server.process.returncode == 1, output
    assert "Respawning worker" in output
    assert "Worker crash loop detected" in output
