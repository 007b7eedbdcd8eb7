"""A database that cannot be reached at start-up, or that stalls at shutdown.

Every way of not reaching the server (refused, a host name that does not resolve, a
server that accepts and never answers, a failed TLS set-up) stops the start-up with one
line, `db-unreachable`, never a driver traceback; and a stalled server does not hold up
the shutdown. PostgreSQL and MariaDB sit behind `FaultProxy` (tests/faults.py).
"""

import asyncio
import logging
import os
import signal
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from tests import live
from tests.faults import FaultProxy
from tests.faults import fault_proxy

from trivium.db import Database
from trivium.errors import ConfigurationError

pytestmark = pytest.mark.drives_no_app

SERVERS = {"postgresql": "TRIVIUM_TEST_POSTGRES_URL", "mysql": "TRIVIUM_TEST_MYSQL_URL"}
APP = """
import os
from typing import Annotated

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from trivium import App
from trivium.db import Database

db = Database(os.environ["APP_DATABASE_URL"], timeout=float(os.environ["APP_TIMEOUT"]))
app = App()
db.init_app(app)


@app.get("/one")
async def one(session: Annotated[AsyncSession, db.depends()]) -> int:
    return int((await session.execute(text("SELECT 1"))).scalar_one())
"""


def server_url(backend: str) -> str:
    url = os.environ.get(SERVERS[backend], "")
    if not url:
        pytest.skip(f"needs {SERVERS[backend]}")
    return url


@pytest.fixture(params=sorted(SERVERS))
def proxy(request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    with fault_proxy(server_url(request.param)) as running:
        yield running


def start_up_error(db: Database) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        anyio.run(db.connect)
    assert caught.value.code == "db-unreachable"
    return caught.value


def test_a_stalled_database_at_start_up_fails_in_one_line_within_the_timeout(
    proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    proxy.stall()  # the server accepts connections and never answers
    db = Database(proxy.url, timeout=1)
    started = time.monotonic()
    error = start_up_error(db)
    assert time.monotonic() - started < 2
    assert f"at 127.0.0.1:{proxy.port}" in str(error)
    assert "did not answer within 1 s" in str(error)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # the one line is it


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app@no-such-host.invalid/app",
        "postgresql+psycopg://app@no-such-host.invalid/app",
        "mysql://app@no-such-host.invalid/app",
    ],
)
def test_a_host_that_does_not_resolve_fails_in_one_line(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    if "psycopg" in url:
        pytest.importorskip("psycopg")
    error = start_up_error(Database(url, timeout=5))
    assert "the database host 'no-such-host.invalid' cannot be resolved" in str(error)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_refused_connection_fails_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    error = start_up_error(Database("postgresql://app@127.0.0.1:1/app"))
    assert "no database server answers at 127.0.0.1:1" in str(error)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_failed_tls_set_up_fails_in_one_line() -> None:
    url = server_url("postgresql")
    # The test server does not speak TLS: asking for it fails the set-up.
    error = start_up_error(Database(f"{url}?ssl=require"))
    assert "the TLS connection to the database server at" in str(error)


def test_a_stalled_database_does_not_hold_up_the_shutdown(proxy: FaultProxy) -> None:
    async def scenario() -> float:
        db = Database(proxy.url, pool_size=4)
        await db.connect()  # leaves an idle connection in the pool
        proxy.stall()
        started = time.monotonic()
        await asyncio.wait_for(db.dispose(), 15)
        return time.monotonic() - started

    assert anyio.run(scenario) < 3


def _write_app(folder: Path) -> None:
    (folder / "stalled_app.py").write_text(textwrap.dedent(APP))


def _run(folder: Path, url: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
    port = live.free_port()
    return subprocess.Popen(
        live.trivium_command("run", "stalled_app:app", "--port", str(port), *args),
        cwd=folder,
        env=live.environment(folder, APP_DATABASE_URL=url, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.live
@pytest.mark.parametrize("environment", ["development", "production"])
def test_trivium_run_says_in_one_line_that_the_database_cannot_be_reached(
    tmp_path: Path, environment: str
) -> None:
    _write_app(tmp_path)
    process = _run(
        tmp_path,
        "postgresql://app@no-such-host.invalid/app",
        "--no-respawn",
        APP_TIMEOUT="5",
        TRIVIUM_ENV=environment,
    )
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        live.stop(process)
    text = output.decode()
    assert process.returncode != 0
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if "db-unreachable" in line]
    assert len(lines) == 1, text
    assert "'no-such-host.invalid' cannot be resolved" in lines[0]


@pytest.mark.live
def test_a_stalled_database_does_not_hold_up_trivium_run_at_sigterm(
    tmp_path: Path, proxy: FaultProxy
) -> None:
    _write_app(tmp_path)
    process = _run(tmp_path, proxy.url, APP_TIMEOUT="10")
    try:
        url = _wait_for_port(process)
        assert httpx.get(f"{url}/one", timeout=5).json() == 1  # a connection in the pool
        proxy.stall()
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
        assert time.monotonic() - started < 6, output.decode()  # not the 30 s shutdown timeout
    finally:
        live.stop(process)
        if process.stdout is not None:
            process.stdout.close()


def _wait_for_port(process: subprocess.Popen[bytes]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode()
        if "Listening at:" in line:
            url = line.rsplit("Listening at:", 1)[1].strip()
            for _ in range(100):
                try:
                    httpx.get(f"{url}/one", timeout=5)
                except httpx.TransportError:
                    time.sleep(0.05)
                else:
                    return url
    raise AssertionError("the server did not start")
