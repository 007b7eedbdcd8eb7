"""One server process for the standalone benchmarks (bench/cache, interop, ratelimit...).

`serving(command, ready)` starts `command` (its `{port}` filled with a free port) in a
process group of its own, waits until `GET ready` answers 200, yields the URL and the
process id, and stops the whole group at the end (SIGINT, then SIGKILL), whatever
happens. `wrk(url, ...)` runs wrk once and returns its parsed `LoadResult`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import time
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from harness.load import LoadResult
from harness.load import parse_wrk
from harness.machine import cpu_model
from harness.server import free_port
from harness.server import pin

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def serving(
    command: Sequence[str],
    ready: str,
    env: Mapping[str, str] | None = None,
    cpu: str | None = None,
    timeout: float = 30,
    output: Any = subprocess.DEVNULL,
) -> Iterator[tuple[str, int]]:
    """Run `command` until the block ends; yield its URL and pid once `ready` answers 200.

    The server's standard output and error go to `output` (a file, say), else nowhere.
    """
    port = free_port()
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", **(env or {})}
    process = subprocess.Popen(  # noqa: S603 - our interpreter and arguments
        pin(cpu, [part.format(port=port) for part in command]),
        cwd=ROOT,
        env=environment,
        stdout=output,
        stderr=output,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + ready, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"{' '.join(command[:5])} did not start")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def wrk(
    url: str,
    seconds: int,
    *,
    connections: int = 32,
    threads: int = 1,
    script: str | None = None,
    cpu: str | None = None,
) -> LoadResult:
    """Run wrk once against `url` and return what it measured."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", script]
    done = subprocess.run(  # noqa: S603 - wrk with our arguments
        pin(cpu, [*command, url]), capture_output=True, text=True, timeout=seconds + 30, check=True
    )
    return parse_wrk(done.stdout)


def medians(runs: Sequence[Mapping[str, float]]) -> tuple[float, float, float, int]:
    """Return the median req/s, p50 and p99 (ms) of a variant's `runs`, and all their non-2xx."""
    return (
        statistics.median(r["rps"] for r in runs),
        statistics.median(r["p50_ms"] for r in runs),
        statistics.median(r["p99_ms"] for r in runs),
        sum(int(r["non_2xx"]) for r in runs),
    )


def table_intro(rounds: int, seconds: int, connections: int) -> str:
    """The line that opens a results table: how it was measured, on what, and when."""
    return (
        f"{rounds} rounds x {seconds} s, {connections} connections, "
        f"median req/s ({cpu_model()}, {time.strftime('%Y-%m-%d')}):"
    )
