"""Model serving with and without micro-batching: requests/s and p99 at 64 clients.

    .venv/bin/python bench/model_serving.py [--seconds 5] [--rounds 3]

Starts `trivium run examples.model_serving.app:app` (one Granian worker; the model runs
on one thread) and measures `POST /predict` (batched: up to 32 requests per model call)
and `POST /predict/unbatched` (one model call per request) with wrk, 64 connections,
in interleaved rounds; prints the medians as a Markdown table. A scikit-learn
prediction costs about the same for 1 row as for 32 (per-call overhead), which is what
batching saves. Wall-clock figures live here, never in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
SCRIPT = """wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    command = [sys.executable, "-m", "trivium.cli", "run", "examples.model_serving.app:app"]
    process = subprocess.Popen(  # noqa: S603 - our interpreter and arguments
        [*command, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.post(url + "/predict", json=FLOWER, timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the model server did not start")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def wrk(url: str, script: str, seconds: int) -> tuple[float, float]:
    """Return requests/s and p99 latency in ms."""
    done = subprocess.run(  # noqa: S603 - wrk with our arguments
        ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-s", script, url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    if "Non-2xx" in done.stdout:
        raise SystemExit(f"wrk saw errors on {url}:\n{done.stdout}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", done.stdout)
    assert rate is not None and p99 is not None, done.stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99[2]]
    return float(rate[1]), float(p99[1]) * scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(SCRIPT.format(body=json.dumps(FLOWER)))
    results: dict[str, list[tuple[float, float]]] = {"/predict/unbatched": [], "/predict": []}
    try:
        with server() as url:
            for _ in range(args.rounds):
                for path, runs in results.items():
                    runs.append(wrk(url + path, handle.name, args.seconds))
    finally:
        Path(handle.name).unlink()
    print("| endpoint | req/s (median) | p99 ms (median) |")  # noqa: T201
    print("|---|---:|---:|")  # noqa: T201
    medians = {}
    for path, runs in results.items():
        rate = statistics.median(r for r, _ in runs)
        p99 = statistics.median(p for _, p in runs)
        medians[path] = rate
        print(f"| `POST {path}` | {rate:,.0f} | {p99:.1f} |")  # noqa: T201
    ratio = medians["/predict"] / medians["/predict/unbatched"]
    print(f"\nbatched ÷ unbatched: {ratio:.1f}×")  # noqa: T201


if __name__ == "__main__":
    main()
