"""Cached route vs uncached: the fortunes page on one Granian worker, measured with wrk.

    .venv/bin/python bench/cache/run.py [--seconds 5] [--rounds 3] [--redis URL]

For each store (memory, and Redis when `--redis` is given) one server runs; `/fortunes`
and `/fortunes-cached` are measured in interleaved rounds and the medians printed as a
Markdown table. Needs PostgreSQL with the benchmark tables (`bench/setup_db.py`) and wrk.
Wall-clock figures live here, never in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(store: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", "BENCH_CACHE_STORE": store}
    command = [
        "taskset", "-c", "0", sys.executable, "-m", "granian", "--interface", "rsgi",
        "--port", str(port), "--workers", "1", "--no-access-log", "bench.cache.app:app",
    ]
    process = subprocess.Popen(  # noqa: S603 - our interpreter and arguments
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/fortunes", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"the {store} server did not start")
            time.sleep(0.2)
        for path in ("/fortunes", "/fortunes-cached"):  # the same page either way
            assert "Additional fortune" in httpx.get(url + path, timeout=5).text
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def wrk(url: str, seconds: float) -> float:
    done = subprocess.run(  # noqa: S603 - wrk with our arguments
        ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{int(seconds)}s", url],
        capture_output=True, text=True, timeout=seconds + 30, check=True,
    )
    if "Non-2xx" in done.stdout:
        raise SystemExit(f"wrk saw errors on {url}:\n{done.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    assert match is not None, done.stdout
    return float(match[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default="")
    args = parser.parse_args()
    stores = ["memory", *([args.redis] if args.redis else [])]
    print("| store | uncached req/s | cached req/s | cached ÷ uncached |")  # noqa: T201
    print("|---|---:|---:|---:|")  # noqa: T201
    for store in stores:
        with server(store) as url:
            plain, fast = [], []
            for _ in range(args.rounds):
                plain.append(wrk(url + "/fortunes", args.seconds))
                fast.append(wrk(url + "/fortunes-cached", args.seconds))
        uncached, cached = statistics.median(plain), statistics.median(fast)
        name = "memory" if store == "memory" else "Redis"
        print(f"| {name} | {uncached:,.0f} | {cached:,.0f} | {cached / uncached:.1f}× |")  # noqa: T201


if __name__ == "__main__":
    main()
