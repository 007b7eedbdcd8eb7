"""Cached route vs uncached: the fortunes page on one Granian worker, measured with wrk.

    .venv/bin/python bench/cache/run.py [--seconds 5] [--rounds 3] [--redis URL]

For each store (memory, and Redis when `--redis` is given) one server runs; `/fortunes`
and `/fortunes-cached` are measured in interleaved rounds and the medians printed as a
Markdown table. Needs PostgreSQL with the benchmark tables (`bench/setup_db.py`) and wrk.
Wall-clock figures live here, never in tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from harness.process import serving  # noqa: E402 - bench/ on the path first
from harness.process import wrk  # noqa: E402

GRANIAN = [sys.executable, "-m", "granian", "--interface", "rsgi", "--port", "{port}"]


def measure(store: str, seconds: int, rounds: int) -> tuple[float, float]:
    """Return the median req/s of `/fortunes` and `/fortunes-cached` on `store`."""
    command = [*GRANIAN, "--workers", "1", "--no-access-log", "bench.cache.app:app"]
    with serving(command, "/fortunes", {"BENCH_CACHE_STORE": store}, cpu="0") as (url, _):
        for path in ("/fortunes", "/fortunes-cached"):  # the same page either way
            assert "Additional fortune" in httpx.get(url + path, timeout=5).text
        plain, fast = [], []
        for _ in range(rounds):
            for runs, path in ((plain, "/fortunes"), (fast, "/fortunes-cached")):
                result = wrk(url + path, seconds, cpu="1")
                if result.non_2xx:
                    raise SystemExit(f"wrk saw {result.non_2xx} errors on {path}")
                runs.append(result.rps)
    return statistics.median(plain), statistics.median(fast)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default="")
    args = parser.parse_args()
    stores = ["memory", *([args.redis] if args.redis else [])]
    print("| store | uncached req/s | cached req/s | cached ÷ uncached |")  # noqa: T201
    print("|---|---:|---:|---:|")  # noqa: T201
    for store in stores:
        uncached, cached = measure(store, args.seconds, args.rounds)
        name = "memory" if store == "memory" else "Redis"
        print(f"| {name} | {uncached:,.0f} | {cached:,.0f} | {cached / uncached:.1f}× |")  # noqa: T201


if __name__ == "__main__":
    main()
