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
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from harness.process import serving  # noqa: E402 - bench/ on the path first
from harness.process import wrk  # noqa: E402

FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
SCRIPT = """wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
"""
SERVER = [sys.executable, "-m", "trivium.cli", "run", "examples.model_serving.app:app"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(SCRIPT.format(body=json.dumps(FLOWER)))
    results: dict[str, list[tuple[float, float]]] = {"/predict/unbatched": [], "/predict": []}
    try:
        with serving([*SERVER, "--port", "{port}"], "/docs", timeout=60) as (url, _):
            for _ in range(args.rounds):
                for path, runs in results.items():
                    result = wrk(
                        url + path, args.seconds, connections=64, threads=2, script=handle.name
                    )
                    if result.non_2xx:
                        raise SystemExit(f"wrk saw {result.non_2xx} errors on {path}")
                    runs.append((result.rps, result.p99_ms))
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
