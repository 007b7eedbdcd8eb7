"""Observability benchmark: the `json` scenario with request IDs, metrics and logs on and off.

One `trivium run` worker (Granian, RSGI, the logging configuration `trivium run` sets
up) pinned to CPU 0, wrk pinned to CPU 1, rounds interleaved so drift hits every
variant alike. Variants: the bare app; `Observability()` (request IDs, echoed in
`X-Request-ID` and bound to log records); plus `metrics=True` (Prometheus counters,
latency histogram and in-flight gauge by route template); plus `access_log=True` (one
line per request, written to a file as a deployment would). Reports requests/s
(median over rounds), the ratio to the bare app, p50/p99 latency and non-2xx answers
(must be 0). The issue's target: the `metrics` row at 0.9x or better.

    .venv/bin/python bench/observability/run.py
    .venv/bin/python bench/observability/run.py --seconds 3 --rounds 1      # a quick look

Wall-clock figures belong here, never in tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from harness.process import medians  # noqa: E402 - bench/ on the path first
from harness.process import serving  # noqa: E402
from harness.process import table_intro  # noqa: E402
from harness.process import wrk  # noqa: E402

VARIANTS = ("none", "ids", "metrics", "access-log")
LABELS = {
    "none": "bare",
    "ids": "request IDs",
    "metrics": "IDs + metrics",
    "access-log": "IDs + metrics + access log",
}


def measure(mode: str, args: argparse.Namespace, logs: Path) -> dict[str, float]:
    """Serve the app in `mode` on one worker and return wrk's figures for `/json`."""
    command = [sys.executable, "-m", "trivium.cli", "run", "bench.observability.app:app"]
    command += ["--port", "{port}"]
    # Metrics in the files several workers share, as `trivium run --workers N` sets up.
    metrics_dir = logs / f"metrics-{mode}"
    metrics_dir.mkdir(exist_ok=True)
    env = {"BENCH_OBSERVE": mode, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    env["TRIVIUM_ENV"] = "production"
    # The access log goes where a deployment sends it: a file, not a pipe nobody reads.
    with (
        (logs / f"{mode}.log").open("ab") as sink,
        serving(command, "/ready", env, cpu=args.server_cpu, output=sink) as (url, _pid),
    ):
        wrk(url + "/json", args.warmup, connections=args.connections, cpu=args.client_cpu)
        result = wrk(url + "/json", args.seconds, connections=args.connections, cpu=args.client_cpu)
    return result.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--client-cpu", default="1")
    parser.add_argument("--output", type=Path, help="also write the table here (RESULTS.md)")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in VARIANTS}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for mode in VARIANTS:
                results[mode].append(measure(mode, args, Path(folder)))
        lines_logged = sum(1 for _ in (Path(folder) / "access-log.log").open("rb"))
    base = statistics.median(r["rps"] for r in results["none"])
    lines = [
        table_intro(args.rounds, args.seconds, args.connections),
        "",
        "| variant | req/s | vs bare | p50 ms | p99 ms | non-2xx |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode, runs in results.items():
        rps, p50, p99, errors = medians(runs)
        lines.append(
            f"| {LABELS[mode]} | {rps:,.0f} | {rps / base:.2f}x | {p50:.2f} | {p99:.2f} "
            f"| {errors} |"
        )
    lines += ["", f"Access log lines written: {lines_logged:,}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
