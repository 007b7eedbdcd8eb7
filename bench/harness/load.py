"""Drive load with wrk (pinned to its own CPU) and parse what it prints."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import asdict
from dataclasses import dataclass

from harness.scenarios import Scenario
from harness.server import pin

CONNECTIONS = 64
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_LATENCY = r"([\d.]+)(us|ms|s|m|h)"


@dataclass
class LoadResult:
    """What one wrk run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    unexpected: int = 0  # answers a scenario's wrk script found wrong (status or body)

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


class LoadError(Exception):
    """wrk failed or printed something the parser does not understand."""


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise LoadError("wrk is not installed: apt-get install -y wrk")
    return path


def wrk_version() -> str:
    proc = subprocess.run([wrk_path(), "-v"], capture_output=True, text=True, check=False)
    first = (proc.stdout or proc.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"


def run_wrk(  # noqa: PLR0913 - the scenario's settings, as wrk takes them
    base_url: str,
    scenario: Scenario,
    seconds: int,
    cpu: str | None,
    connections: int = CONNECTIONS,
    env: dict[str, str] | None = None,
) -> LoadResult:
    """Run wrk against one scenario for ``seconds`` and return the parsed result.

    ``env`` reaches the scenario's wrk script (the session cookie, the form body).
    """
    cmd = [wrk_path(), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if scenario.lua is not None:
        cmd += ["-s", str(scenario.lua)]
    cmd.append(base_url + scenario.path)
    try:
        proc = subprocess.run(
            pin(cpu, cmd),
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
            env={**os.environ, **env} if env else None,
        )
    except subprocess.TimeoutExpired as exc:
        raise LoadError(f"wrk did not finish within {seconds + 60} s") from exc
    if proc.returncode != 0:
        raise LoadError(f"wrk exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return parse_wrk(proc.stdout)


def _ms(value: str, unit: str) -> float:
    return float(value) * UNITS_MS[unit]


def parse_wrk(text: str) -> LoadResult:
    """Parse wrk's --latency report."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    p50 = re.search(rf"^\s+50%\s+{_LATENCY}", text, re.M)
    p99 = re.search(rf"^\s+99%\s+{_LATENCY}", text, re.M)
    total = re.search(r"^\s+(\d+) requests in", text, re.M)
    if not (rps and p50 and p99 and total):
        raise LoadError(f"cannot parse wrk output:\n{text[-600:]}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    unexpected = re.search(r"^Unexpected responses: (\d+)", text, re.M)
    return LoadResult(
        rps=float(rps.group(1)),
        p50_ms=_ms(*p50.groups()),
        p99_ms=_ms(*p99.groups()),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, sock.groups())) if sock else 0,
        unexpected=int(unexpected.group(1)) if unexpected else 0,
    )
