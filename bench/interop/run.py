"""Interop under load: a 1 GB upload and 25 slow streams through a mounted Flask app.

    .venv/bin/python bench/interop/run.py [--upload-mb 1024] [--streams 25]

Starts `trivium run bench.interop.app:app` (one Granian worker) and reports, as JSON:

- the worker's resident memory before a `--upload-mb` upload to the Flask view (sent
  chunked, read by Flask in pieces) and its peak while the upload runs: the body is
  streamed, so the growth stays small whatever the size;
- the latency of trivium's own `/livez` (p50/p99 over `--probes` requests) alone, then
  while `--streams` slow Flask streams are open: the mount's own thread pool keeps the
  legacy app from starving trivium's handlers;
- requests/s of a small Flask JSON view mounted in trivium and the same Flask app served
  alone by Granian's WSGI interface (wrk, when installed).

Wall-clock figures live here, never in tests. Every server is killed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from shutil import which

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from harness.process import serving  # noqa: E402 - bench/ on the path first


def _descendants(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                child = int(entry.name)
                found += [child, *_descendants(child)]
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of the process tree under `pid` (the server and its workers), in MB."""
    total = 0
    for each in [pid, *_descendants(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def upload(url: str, pid: int, megabytes: int) -> dict[str, float]:
    before = rss_mb(pid)
    peak = before
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb(pid))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    chunk = b"x" * (1 << 20)

    def body() -> Iterator[bytes]:
        for _ in range(megabytes):
            yield chunk

    started_at = time.monotonic()
    try:
        response = httpx.post(url + "/legacy/upload", content=body(), timeout=600)
    finally:
        done.set()
        watcher.join()
    assert response.json() == {"bytes": megabytes << 20}, response.text
    seconds = time.monotonic() - started_at
    return {
        "upload_mb": megabytes,
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_growth_mb": round(peak - before, 1),
        "upload_mb_per_s": round(megabytes / seconds, 1),
    }


def probe(url: str, count: int) -> dict[str, float]:
    latencies = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(count):
            started_at = time.perf_counter()
            assert client.get("/livez").status_code == 200
            latencies.append(time.perf_counter() - started_at)
    latencies.sort()
    return {
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
    }


def with_slow_streams(url: str, streams: int, probes: int) -> dict[str, float]:
    opened = threading.Barrier(streams + 1)
    stop = threading.Event()

    def hold() -> None:
        with httpx.stream("GET", url + "/legacy/slow", timeout=60) as response:
            lines = response.iter_lines()
            next(lines)
            opened.wait()
            for _ in lines:
                if stop.is_set():
                    return

    threads = [threading.Thread(target=hold, daemon=True) for _ in range(streams)]
    for thread in threads:
        thread.start()
    opened.wait(timeout=30)
    try:
        return probe(url, probes)
    finally:
        stop.set()


def wrk(url: str, seconds: int) -> float | None:
    if which("wrk") is None:
        return None
    done = subprocess.run(  # noqa: S603 - wrk with our arguments
        ["wrk", "-t1", "-c32", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    return float(match[1]) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upload-mb", type=int, default=1024)
    parser.add_argument("--streams", type=int, default=25)
    parser.add_argument("--probes", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=5, help="each wrk window")
    args = parser.parse_args()
    env = {"BENCH_SLOW_SECONDS": "60"}
    trivium = [sys.executable, "-m", "trivium.cli", "run", "bench.interop.app:app"]
    result: dict[str, object] = {}
    with serving([*trivium, "--port", "{port}"], "/livez", env) as (url, pid):
        result["upload"] = upload(url, pid, args.upload_mb)
        result["livez_alone"] = probe(url, args.probes)
        result[f"livez_with_{args.streams}_slow_legacy_streams"] = with_slow_streams(
            url, args.streams, args.probes
        )
    with serving([*trivium, "--port", "{port}"], "/livez", env) as (url, _):
        result["mounted_flask_hello_rps"] = wrk(url + "/legacy/hello", args.seconds)
    granian = [sys.executable, "-m", "granian", "--interface", "wsgi", "--port", "{port}"]
    with serving([*granian, "bench.interop.app:legacy"], "/hello", env) as (url, _):
        result["flask_alone_granian_wsgi_rps"] = wrk(url + "/hello", args.seconds)
    print(json.dumps(result, indent=2))  # noqa: T201 - the report


if __name__ == "__main__":
    main()
