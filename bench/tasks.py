"""Task throughput: trivium.tasks against plain taskiq and Celery on the same Redis.

For each system, job (`noop`: count itself; `io`: sleep 10 ms, then count) and number
of worker processes (1 and 4, each running 10 tasks at once: async tasks for trivium
and taskiq, a 10-thread pool for Celery, which has no asyncio), the harness starts the
workers, lets them settle, enqueues N jobs from this process (100 at a time) and times
until the workers have counted N in Redis. Throughput is N over that time, enqueueing
included. trivium's figures include what it does beyond taskiq: a state record per
run (written on enqueue, start and finish) and a renewed lease per running task.

    pip install -e '.[dev]' -r bench/requirements.txt
    .venv/bin/python bench/tasks.py --redis redis://127.0.0.1:6379/2 --write

`--write` rewrites bench/RESULTS-tasks.md. The Redis database is flushed before each run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent
APPS = HERE / "tasks_apps"
SYSTEMS = ("trivium", "taskiq", "celery")
JOBS = {"noop": 2000, "io": 1000}


def _worker_command(system: str, index: int) -> list[str]:
    python = sys.executable
    if system == "trivium":
        return [python, "-m", "trivium.cli", "worker", "-c", "10", "--grace", "1"]
    if system == "taskiq":
        return [python, "-m", "taskiq", "worker", "taskiq_jobs:broker", "--workers", "1",
                "--max-async-tasks", "10", "--log-level", "WARNING"]
    return [python, "-m", "celery", "-A", "celery_jobs", "worker", "--pool", "threads",
            "-c", "10", "-n", f"bench{index}@%h", "--loglevel", "WARNING", "--without-gossip",
            "--without-mingle", "--without-heartbeat"]


@contextlib.contextmanager
def _workers(system: str, count: int, url: str) -> Iterator[None]:
    env = {**os.environ, "BENCH_REDIS_URL": url, "TRIVIUM_APP": "trivium_jobs:app",
           "PYTHONPATH": f"{APPS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    processes = [
        subprocess.Popen(_worker_command(system, i), cwd=APPS, env=env,  # noqa: S603
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


async def _enqueue(system: str, job: str, n: int) -> None:
    module = importlib.import_module(f"{system}_jobs")
    task = getattr(module, job)
    if system == "celery":
        await asyncio.to_thread(lambda: [task.delay() for _ in range(n)])
        return
    if system == "taskiq":
        await module.broker.startup()
        send = task.kiq
    else:
        send = task.enqueue
    for start in range(0, n, 100):
        await asyncio.gather(*(send() for _ in range(min(100, n - start))))
    if system == "taskiq":
        await module.broker.shutdown()
    else:
        await module.tasks.stop()


def _run(system: str, job: str, workers: int, url: str) -> float:
    client = redis.Redis.from_url(url)
    client.flushdb()
    n = JOBS[job]
    with _workers(system, workers, url):
        time.sleep(4 + workers)  # imports and connections; a warm start is what we measure
        began = time.perf_counter()
        asyncio.run(_enqueue(system, job, n))
        deadline = time.monotonic() + 120
        while int(client.get("bench:done") or 0) < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{system} {job} x{workers}: only {client.get('bench:done')} of {n} done")
            time.sleep(0.005)
        elapsed = time.perf_counter() - began
    client.flushdb()
    client.close()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2"))
    parser.add_argument("--write", action="store_true", help="rewrite bench/RESULTS-tasks.md")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    args = parser.parse_args()
    os.environ["BENCH_REDIS_URL"] = args.redis
    sys.path.insert(0, str(APPS))
    rows = []
    for job in JOBS:
        for workers in (1, 4):
            row = [job, str(workers)]
            for system in args.systems.split(","):
                rate = _run(system, job, workers, args.redis)
                print(f"{system:8} {job:5} workers={workers}: {rate:8.0f} tasks/s", flush=True)  # noqa: T201
                row.append(f"{rate:,.0f}")
            rows.append(row)
    if args.write:
        _write(rows, args.systems.split(","))


def _write(rows: list[list[str]], systems: list[str]) -> None:
    from importlib.metadata import version

    versions = ", ".join(f"{name} {version(name)}" for name in ("taskiq", "taskiq-redis", "celery", "redis"))
    header = "| job | workers | " + " | ".join(f"{s} (tasks/s)" for s in systems) + " |"
    lines = [header, "|" + "---|" * (2 + len(systems))]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    redis_version = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"]).info()["redis_version"]
    text = f"""# Task throughput: trivium.tasks vs taskiq vs Celery

Written by `bench/tasks.py` on {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}.
Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared with other work while measured:
compare the columns of one row, not runs on different days), Python {platform.python_version()},
Redis {redis_version}; {versions}.

Each worker process runs 10 tasks at once (async for trivium and taskiq, a 10-thread pool
for Celery). `noop` counts itself in Redis (2,000 jobs); `io` sleeps 10 ms first (1,000 jobs).
Throughput = jobs / time from the first enqueue until the last job is counted.

{chr(10).join(lines)}

trivium does more per run than plain taskiq: it writes the run's state on enqueue, start
and finish (one Redis round trip each), renews the lease of each running task, and
resolves the task's dependencies (`Depends`) per run.
"""
    (HERE / "RESULTS-tasks.md").write_text(text)


if __name__ == "__main__":
    main()
