"""`trivium run`: environment variables, TLS, root path, log format, metrics across workers,
graceful shutdown. Live servers on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests import live
from tests.live import ROOT

OPS = "tests.cli.ops_app:app"
START_TIMEOUT = 20.0


@contextlib.contextmanager
def serving(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, scheme: str = "http"
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """Run `trivium run ARGS` and yield its base URL, process and log file."""
    values = env or {}
    environment = live.environment(**values)
    if "PROMETHEUS_MULTIPROC_DIR" not in values:
        # Set by an in-process serve() of another test: each server starts afresh.
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = None  # a free one, unless the command line or the environment names it
    if "--port" in args:
        port = int(args[args.index("--port") + 1])
    elif "PORT" in values:
        port = int(values["PORT"])
    with live.trivium_run(
        *args,
        env=environment,
        port=port,
        scheme=scheme,
        ready_path="/livez",
        timeout=START_TIMEOUT,
        log_dir=tmp_path,
    ) as server:
        yield server.url, server.process, server.log


@pytest.mark.live
def test_port_and_web_concurrency_come_from_the_environment(tmp_path: Path) -> None:
    port = str(live.free_port())
    with serving(tmp_path, OPS, env={"PORT": port, "WEB_CONCURRENCY": "2"}) as (url, _, log):
        assert url.endswith(f":{port}")
        pids = set()
        deadline = time.monotonic() + 10
        while len(pids) < 2 and time.monotonic() < deadline:
            pids.add(httpx.get(f"{url}/").json()["pid"])
        assert len(pids) == 2, log.read_text()


@pytest.mark.live
def test_a_flag_wins_over_the_environment(tmp_path: Path) -> None:
    port = live.free_port()
    busy = str(live.free_port())
    with serving(tmp_path, OPS, "--port", str(port), env={"PORT": busy}) as (url, _, _log):
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200


@pytest.mark.live
def test_metrics_add_up_every_worker(tmp_path: Path) -> None:
    with serving(tmp_path, OPS, "--workers", "2") as (url, _, log):
        pids = set()
        for _ in range(30):
            pids.add(httpx.get(f"{url}/").json()["pid"])  # a new connection each time
        assert len(pids) == 2, log.read_text()
        # Each worker hands its counts over once a second: within that, whichever worker
        # answers the scrape, the sum is every worker's.
        line = 'trivium_requests_total{method="GET",route="/",status="200"} 30.0'
        deadline = time.monotonic() + 5
        while line not in (text := httpx.get(f"{url}/metrics").text):
            assert time.monotonic() < deadline, text
            time.sleep(0.2)
        for _ in range(3):
            assert line in httpx.get(f"{url}/metrics").text


@pytest.mark.live
def test_json_logs_in_production_carry_the_request_id(tmp_path: Path) -> None:
    env = {"TRIVIUM_ENV": "production"}
    with serving(tmp_path, OPS, env=env) as (url, _, log):
        httpx.get(f"{url}/", headers={"X-Request-ID": "from-the-proxy"})
        deadline = time.monotonic() + 5
        while "served index" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    (record,) = [line for line in lines if line["message"] == "served index"]
    assert record["request_id"] == "from-the-proxy"
    assert record["level"] == "WARNING"
    assert any(line["logger"] == "_granian" for line in lines)  # the server's own lines too


@pytest.mark.live
def test_text_logs_in_development(tmp_path: Path) -> None:
    with serving(tmp_path, OPS, "--log-format", "text") as (url, _, log):
        httpx.get(f"{url}/", headers={"X-Request-ID": "dev-1"})
        deadline = time.monotonic() + 5
        while "served index" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    (line,) = [line for line in log.read_text().splitlines() if "served index" in line]
    assert " WARNING ops_app [dev-1 " in line


@pytest.mark.live
def test_tls_certificate_and_key(tmp_path: Path) -> None:
    cert, key = live.certificate(tmp_path)
    args = (OPS, "--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    with serving(tmp_path, *args, scheme="https") as (url, _, _log):
        response = httpx.get(f"{url}/", verify=ssl.create_default_context(cafile=str(cert)))
        assert response.status_code == 200
        assert response.url.scheme == "https"


@pytest.mark.live
def test_root_path_is_set_on_requests(tmp_path: Path) -> None:
    with serving(tmp_path, OPS, "--root-path", "/api") as (url, _, _log):
        assert httpx.get(f"{url}/api/").json()["root_path"] == "/api"


@pytest.mark.live
def test_graceful_shutdown_finishes_in_flight_requests(tmp_path: Path) -> None:
    with serving(tmp_path, OPS, "--shutdown-timeout", "10") as (url, process, log):
        result: dict[str, object] = {}

        def call() -> None:
            try:
                result["response"] = httpx.get(f"{url}/slow?seconds=1.5", timeout=10)
            except httpx.HTTPError as exc:
                result["error"] = exc

        thread = threading.Thread(target=call)
        thread.start()
        time.sleep(0.5)  # the request is in flight
        os.killpg(process.pid, signal.SIGTERM)
        thread.join(15)
        assert "error" not in result, log.read_text()
        response = result["response"]
        assert isinstance(response, httpx.Response)
        assert response.json() == {"slept": 1.5}
        assert process.wait(10) == 0, log.read_text()


@pytest.mark.live
def test_reload_watches_code_and_templates_only(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "live_ops.py").write_text((ROOT / "tests/cli/ops_app.py").read_text())
    env = {"PYTHONPATH": live.environment(project)["PYTHONPATH"]}
    args = ("live_ops:app", "--reload", "--reload-dir", str(project), "--reload-exclude", "*.skip")
    with serving(tmp_path, *args, env=env) as (url, _, log):

        def pid() -> int:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    return int(httpx.get(f"{url}/", timeout=2).json()["pid"])
                time.sleep(0.1)
            pytest.fail(log.read_text())

        first = pid()
        for name in ("notes.txt", "data.json", "cache.skip", "app.db-wal"):
            (project / name).write_text("x")
        (project / "templates" / "page.html").write_text("<p>hi</p>")
        deadline = time.monotonic() + 15
        current = first
        while current == first and time.monotonic() < deadline:
            current = pid()
            time.sleep(0.1)
        assert current != first, log.read_text()
        time.sleep(1)
        assert log.read_text().count("Changes detected") == 1, log.read_text()


@pytest.mark.live
def test_a_database_that_does_not_answer_stops_the_server_in_one_line_each(
    tmp_path: Path,
) -> None:
    (tmp_path / "down_app.py").write_text(
        "from trivium import App\n"
        "from trivium.db import Database\n"
        "app = App(plugins=[Database('postgresql://app@127.0.0.1:1/blog')])\n"
    )
    env = live.environment(tmp_path)
    done = subprocess.run(  # noqa: S603 - our interpreter and module
        live.trivium_command("run", "down_app:app", "--port", str(live.free_port())),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "start-up failed: [db-unreachable] no database server answers at 127.0.0.1:1" in output
    assert "Traceback" not in output
    assert "Respawning" not in output  # a worker that never started is not replaced


@pytest.mark.live
def test_the_metrics_folder_goes_with_the_server(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with serving(tmp_path, OPS, "--workers", "2", env={"TMPDIR": str(scratch)}) as (url, _, _log):
        assert httpx.get(f"{url}/").status_code == 200
        (folder,) = scratch.glob("trivium-metrics-*")
        assert any(folder.iterdir())  # the workers' values live there while serving
    assert not folder.exists()


@pytest.mark.live
@pytest.mark.parametrize("interface", ["rsgi", "asgi"])
def test_an_endless_event_stream_does_not_hold_the_shutdown(tmp_path: Path, interface: str) -> None:
    args = (OPS, "--interface", interface, "--shutdown-timeout", "20")
    with serving(tmp_path, *args) as (url, process, log):
        lines: list[str] = []

        def listen() -> None:
            with httpx.stream("GET", f"{url}/events", timeout=30) as response:
                lines.extend(response.iter_lines())  # returns once the server ends it

        thread = threading.Thread(target=listen)
        thread.start()
        deadline = time.monotonic() + 10
        while not any(line.startswith("data:") for line in lines):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(15) == 0, log.read_text()
        thread.join(5)
        # Ended by the server at once (cleanly: the browser reconnects elsewhere), not
        # after the 20 s shutdown timeout.
        assert time.monotonic() - started < 10
        assert not thread.is_alive()


def _launch_slow(tmp_path: Path, interface: str, *args: str, **slow: str) -> live.Server:
    marks = tmp_path / "marks"
    marks.mkdir()
    env = live.environment(SLOW_START_MARKS=str(marks), **slow)
    args = ("--interface", interface, "--shutdown-timeout", "30", *args)
    return live.launch("tests.cli.slow_start_app:app", *args, log_dir=tmp_path, env=env)


def _wait_for_mark(tmp_path: Path, stage: str, server: live.Server, worker: int = 1) -> None:
    """Wait until worker number `worker` has reached `stage` of its start."""
    deadline = time.monotonic() + START_TIMEOUT
    spawned = re.compile(rf"Spawning worker-{worker} with PID: (\d+)")
    while True:
        assert server.process.poll() is None, server.log.read_text()
        assert time.monotonic() < deadline, server.log.read_text()
        found = spawned.search(server.log.read_text())
        if found and (tmp_path / "marks" / f"{stage}-{found[1]}").exists():
            return
        time.sleep(0.02)


@pytest.mark.live
@pytest.mark.parametrize("interface", ["rsgi", "asgi"])
def test_ctrl_c_during_the_start_up_stops_the_server_once_started(
    tmp_path: Path, interface: str
) -> None:
    # Ctrl-C reaches the whole process group: the starting worker gets SIGINT, then
    # SIGTERM from the server. Granian's handler blocked the worker's loop on the second.
    server = _launch_slow(tmp_path, interface, SLOW_STARTUP="2")
    try:
        _wait_for_mark(tmp_path, "starting", server)
        started = time.monotonic()
        os.killpg(server.process.pid, signal.SIGINT)
        assert server.process.wait(15) == 0, server.log.read_text()
        assert time.monotonic() - started < 10  # the 2 s start-up, not the 30 s timeout
    finally:
        live.stop(server.process)


@pytest.mark.live
def test_a_worker_asked_to_stop_while_it_imports_the_app_stops(tmp_path: Path) -> None:
    # SIGTERM to the server alone (as `systemctl stop` with KillMode=mixed, or a
    # container's PID 1). With two workers, each imports the app itself; one still
    # importing ran the server's inherited handler, which dropped the request to stop.
    server = _launch_slow(tmp_path, "rsgi", "--workers", "2", SLOW_IMPORT="2")
    try:
        _wait_for_mark(tmp_path, "importing", server, worker=2)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(15) == 0, server.log.read_text()
        assert time.monotonic() - started < 10
    finally:
        live.stop(server.process)
