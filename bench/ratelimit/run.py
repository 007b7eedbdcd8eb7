"""Rate limit benchmark: a limited route's throughput against the same route unlimited.

One `trivium run` worker (Granian, RSGI) pinned to CPU 0, wrk pinned to CPU 1, rounds
interleaved so drift hits every variant alike. Variants: `/plain` (no limit), a route
with a no-op request step, one with a no-op gate (what the limit's gate costs before
it checks anything), `/limited` with counters in memory, and with counters in
Redis: one hot key (every request from one client: concurrent checks share a script
run) and 100,000 keys (random users: about one script run per request, pipelined).
Reports requests/s (median over rounds), p50/p99 latency, the ratio to `/plain`,
non-2xx answers (must be 0) and the worker's RSS after the run. With `--database`, a
route doing one PostgreSQL read is measured too, unlimited and limited in Redis (its
ratio is to that unlimited route): what the check costs a route that does real work.

    .venv/bin/python bench/ratelimit/run.py --redis redis://127.0.0.1:6379/6 \
        --database postgresql+asyncpg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/ratelimit/run.py --seconds 3 --rounds 1      # a quick look

Wall-clock figures belong here, never in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from harness.load import parse_wrk  # noqa: E402 - bench/ on the path first
from harness.process import medians  # noqa: E402
from harness.process import serving  # noqa: E402
from harness.process import table_intro  # noqa: E402
from harness.server import memory  # noqa: E402

DB_PLAIN = "one PostgreSQL read"


@contextlib.contextmanager
def server(store: str | None, database: str | None, cpu: str) -> Iterator[tuple[str, int]]:
    """Run the benchmark app on one worker; yield its URL and process id."""
    command = [sys.executable, "-m", "trivium.cli", "run", "bench.ratelimit.app:app"]
    env = {"BENCH_RATELIMIT_STORE": store or "", "BENCH_RATELIMIT_DATABASE": database or ""}
    with serving([*command, "--port", "{port}"], "/plain", env, cpu=cpu) as running:
        yield running


def wrk(url: str, seconds: int, cpu: str, connections: int) -> dict[str, float]:
    """Run wrk once and return its parsed figures (`/limited-by-user`: 100,000 users)."""
    command = ["taskset", "-c", cpu, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    if url.endswith("/limited-by-user"):
        command += ["-s", str(Path(__file__).with_name("many_keys.lua"))]
    proc = subprocess.run(  # noqa: S603 - fixed arguments
        [*command, "--latency", url], capture_output=True, text=True, check=True
    )
    return parse_wrk(proc.stdout).to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis", help="a redis:// URL (default: skip the Redis variant)")
    parser.add_argument(
        "--database",
        help="a postgresql+asyncpg:// URL: also measure a route doing one read (needs --redis)",
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--client-cpu", default="1")
    parser.add_argument("--output", type=Path, help="also write the table here (RESULTS.md)")
    args = parser.parse_args()
    variants = [
        ("plain", None, "/plain"),
        ("no-op step", None, "/stepped"),
        ("no-op gate", None, "/gated"),
        ("memory", None, "/limited"),
    ]
    if args.redis:
        variants.append(("redis, one client", args.redis, "/limited"))
        variants.append(("redis, 100k clients", args.redis, "/limited-by-user"))
    if args.database and not args.redis:
        parser.error("--database compares a Redis limit on the read: give --redis too")
    if args.database:
        variants.append((DB_PLAIN, None, "/db"))
        variants.append(("one PostgreSQL read, redis limit", args.redis, "/db-limited"))
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in variants}
    rss: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, store, path in variants:
            database = args.database if path.startswith("/db") else None
            with server(store, database, args.server_cpu) as (url, pid):
                wrk(url + path, args.warmup, args.client_cpu, args.connections)
                results[name].append(
                    wrk(url + path, args.seconds, args.client_cpu, args.connections)
                )
                rss[name] = memory(pid)[0]
    base = statistics.median(r["rps"] for r in results["plain"])
    db_base = statistics.median(r["rps"] for r in results[DB_PLAIN]) if args.database else 0
    lines = [
        table_intro(args.rounds, args.seconds, args.connections),
        "",
        "| variant | req/s | vs unlimited | p50 ms | p99 ms | non-2xx | worker RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        rps, p50, p99, errors = medians(runs)
        reference = db_base if name.startswith("one PostgreSQL read") else base
        lines.append(
            f"| {name} | {rps:,.0f} | {rps / reference:.2f}x | {p50:.2f} | {p99:.2f} | {errors} "
            f"| {rss[name] / 1024:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
