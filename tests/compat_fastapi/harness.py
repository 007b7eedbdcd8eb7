"""Run FastAPI's own tutorial tests against trivium.compat and against FastAPI itself.

FastAPI's source distribution carries `docs_src/` (the tutorial apps) and
`tests/test_tutorial/` (their tests). The harness downloads the sdist of the FastAPI
version installed in this environment from PyPI (cached in `.cache/compat-fastapi/`,
never committed), extracts those folders, and runs them twice with pytest:

- **fastapi**: unchanged, on the real FastAPI: the baseline.
- **trivium**: a copy whose imports `trivium port fastapi` rewrote to trivium.compat, with
  `fastapi` and `starlette` made unimportable so nothing falls back to them silently.

The score is how many of the tests FastAPI passes also pass on trivium.compat.
`python tests/compat_fastapi/harness.py` prints the score and the failures grouped by
their error; `--subset` runs the documented subset `make test` uses.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import fcntl
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "compat-fastapi"
TUTORIAL = "tests/test_tutorial"
# Needs tests/test_telemetry (not a tutorial) for its conftest, and OpenTelemetry/Sentry.
IGNORED = ("tests/test_tutorial/test_opentelemetry",)

PYTEST_INI = """\
[pytest]
markers =
    xdist_group: FastAPI's marker for tests sharing a working directory
filterwarnings =
    error
    ignore:Using .httpx. with .starlette.testclient.:UserWarning
"""

RECORDER = '''\
"""Record every test's outcome (and first error line) to $COMPAT_HARNESS_RESULTS."""
import json, os, sys

_RESULTS = {}


class _Blocked:
    """Make fastapi/starlette unimportable: every import must go through trivium.compat."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("fastapi", "starlette"):
            raise ImportError(f"{name} is blocked by the compat harness (not ported to trivium.compat)")
        return None


if os.environ.get("COMPAT_HARNESS_BLOCK"):
    sys.meta_path.insert(0, _Blocked())


def _message(report):
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.splitlines()[0][:300] if crash.message else ""
    return str(report.longrepr).strip().splitlines()[-1][:300] if report.longrepr else ""


def pytest_runtest_logreport(report):
    previous = _RESULTS.get(report.nodeid)
    if report.when == "call" or report.outcome != "passed":
        if previous is None or previous[0] == "passed":
            _RESULTS[report.nodeid] = [report.outcome, _message(report)]


def pytest_collection_modifyitems(config, items):
    # A warning filter naming an unimportable class aborts the whole session inside
    # pytest: record such a test as failed and leave it out instead.
    from _pytest.config import parse_warning_filter

    kept = []
    for item in items:
        try:
            for mark in item.iter_markers(name="filterwarnings"):
                for arg in mark.args:
                    parse_warning_filter(arg, escape=False)
        except Exception as exc:
            _RESULTS[item.nodeid] = ["failed", f"filterwarnings: {exc}"[:300]]
        else:
            kept.append(item)
    items[:] = kept


def pytest_collectreport(report):
    if report.outcome == "failed":
        _RESULTS[report.nodeid + "::<collect>"] = ["failed", _message(report)]


def pytest_sessionfinish(session):
    with open(os.environ["COMPAT_HARNESS_RESULTS"], "w") as f:
        json.dump(_RESULTS, f, indent=0, sort_keys=True)
'''

SUBSET_RATE = 0.96
"""Committed floor for the subset (`make test`): passing on trivium / passing on FastAPI."""
FULL_RATE = 0.96
"""Committed floor for the whole tutorial suite (`make compat`, called from .ci/run)."""

# The subset `make test` runs when the full run is too slow for every test run: the
# chapters every FastAPI app touches (see docs/compat.md, "Tutorial suite results").
SUBSET = (
    "test_body",
    "test_body_multiple_params",
    "test_body_nested_models",
    "test_bigger_applications",
    "test_cookie_params",
    "test_dependencies",
    "test_handling_errors",
    "test_header_params",
    "test_middleware",
    "test_path_params",
    "test_query_params",
    "test_query_params_str_validations",
    "test_request_forms",
    "test_request_files",
    "test_response_model",
    "test_security",
    "test_testing",
)


@dataclasses.dataclass(frozen=True)
class Score:
    """The tests FastAPI passes, and which of them pass on trivium.compat."""

    version: str
    baseline: dict[str, list[str]]
    trivium: dict[str, list[str]]
    seconds: float

    @property
    def expected(self) -> list[str]:
        """Test ids that pass on FastAPI itself."""
        return sorted(n for n, (outcome, _) in self.baseline.items() if outcome == "passed")

    @property
    def passed(self) -> list[str]:
        """Test ids that pass on FastAPI and on trivium.compat."""
        return [n for n in self.expected if self.trivium.get(n, ["missing"])[0] == "passed"]

    @property
    def rate(self) -> float:
        """Share of FastAPI's passing tests that pass on trivium.compat."""
        return len(self.passed) / len(self.expected) if self.expected else 0.0

    def failures(self) -> dict[str, list[str]]:
        """Group the tests that pass on FastAPI but not on trivium by their error line."""
        groups: dict[str, list[str]] = collections.defaultdict(list)
        collect_errors = {
            n.removesuffix("::<collect>"): msg
            for n, (outcome, msg) in self.trivium.items()
            if n.endswith("::<collect>")
        }
        for node in self.expected:
            outcome, message = self.trivium.get(node, ["missing", ""])
            if outcome == "passed":
                continue
            if outcome == "missing":
                module = node.split("::")[0]
                message = "collection failed: " + collect_errors.get(module, "(not collected)")
            key = re.sub(r"0x[0-9a-f]+", "0x…", message)[:160]
            groups[key].append(node)
        return dict(sorted(groups.items(), key=lambda item: -len(item[1])))

    def split(self) -> dict[str, tuple[int, int]]:
        """Passed and expected counts for OpenAPI-document tests and for the other (behaviour) tests."""
        passed = set(self.passed)
        counts = {"behaviour": [0, 0], "openapi": [0, 0]}
        for node in self.expected:
            kind = "openapi" if "openapi" in node.rpartition("::")[2] else "behaviour"
            counts[kind][1] += 1
            counts[kind][0] += node in passed
        return {kind: (done, total) for kind, (done, total) in counts.items()}

    def summary(self) -> str:
        """One line: passed / expected (rate) on FastAPI <version>, split by kind."""
        split = ", ".join(f"{kind} {done}/{total}" for kind, (done, total) in self.split().items())
        return (
            f"FastAPI {self.version} tutorial tests on trivium.compat: {len(self.passed)} of "
            f"{len(self.expected)} that FastAPI passes ({self.rate:.1%}; {split}), "
            f"{self.seconds:.0f} s"
        )


def installed_fastapi() -> str:
    """Return the version of the FastAPI installed here (the sdist fetched matches it)."""
    return importlib.metadata.version("fastapi")


def fetch(version: str) -> Path:
    """Download (once) and extract FastAPI's sdist; return the extracted tutorial tree."""
    tree = CACHE / f"fastapi-{version}"
    if (tree / TUTORIAL).is_dir():
        return tree
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / f"fastapi-{version}.tar.gz"
    if not sdist.exists():
        command = [sys.executable, "-m", "pip", "download", f"fastapi=={version}"]
        command += ["--no-binary", ":all:", "--no-deps", "--quiet", "-d", str(CACHE)]
        subprocess.run(command, check=True, timeout=300)
    wanted = ("docs_src/", f"{TUTORIAL}/", "tests/__init__.py", "tests/utils.py")
    staging = CACHE / f"staging-{version}"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(sdist) as archive:
        prefix = f"fastapi-{version}/"
        members = [
            m
            for m in archive.getmembers()
            if m.name.removeprefix(prefix).startswith(wanted) or m.name == prefix + "docs"
        ]
        archive.extractall(staging, members=members, filter="data")
    (staging / prefix).rename(tree)
    shutil.rmtree(staging)
    return tree


def _prepare(source: Path, target: Path, *, port: bool) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    for path in IGNORED:  # pytest loads a folder's conftest even under --ignore
        shutil.rmtree(target / path, ignore_errors=True)
    (target / "pytest.ini").write_text(PYTEST_INI)
    (target / "conftest.py").write_text(RECORDER)
    if port:  # the command a user runs, on the copy
        command = [sys.executable, "-m", "trivium.cli", "port", "fastapi", "--write", "--no-diff"]
        done = subprocess.run(
            [*command, "docs_src", "tests"], cwd=target, capture_output=True, timeout=600
        )
        (target / "port.log").write_bytes(done.stderr)
        if done.returncode != 0:
            msg = f"trivium port fastapi failed:\n{done.stderr.decode(errors='replace')[-3000:]}"
            raise RuntimeError(msg)


def _start(
    tree: Path, selection: list[str], *, block: bool
) -> tuple[subprocess.Popen[bytes], Path]:
    results = tree / "results.json"
    results.unlink(missing_ok=True)
    env = {**os.environ, "COMPAT_HARNESS_RESULTS": str(results), "PYTHONPATH": str(tree)}
    env.pop("COMPAT_HARNESS_BLOCK", None)
    if block:
        env["COMPAT_HARNESS_BLOCK"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-q", "-p", "no:cacheprovider"]
    command += ["--continue-on-collection-errors", "--tb=no", "-rN"]
    command += selection
    with (tree / "pytest.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, results


def _finish(
    process: subprocess.Popen[bytes], results: Path, timeout: float
) -> dict[str, list[str]]:
    process.wait(timeout=timeout)
    if not results.exists():
        log = (results.parent / "pytest.log").read_text(errors="replace")[-3000:]
        msg = f"pytest wrote no results in {results.parent} (exit {process.returncode}):\n{log}"
        raise RuntimeError(msg)
    data: dict[str, list[str]] = json.loads(results.read_text())
    return data


def _selection(only: Sequence[str]) -> list[str]:
    """Turn chapter names (`test_body`) or paths below `tests/test_tutorial` into pytest ids."""
    paths = []
    for item in only:
        item = item.removeprefix(f"{TUTORIAL}/").removeprefix("test_tutorial/")
        paths.append(f"{TUTORIAL}/{item}")
    return paths


def run(
    *,
    subset: bool = False,
    only: Sequence[str] = (),
    keyword: str | None = None,
    timeout: float = 900,
) -> Score:
    """Run the tutorial tests on FastAPI and on trivium.compat and score them.

    `only` (chapters or test files) and `keyword` (pytest's `-k`) narrow the run for
    working on one chapter; the baseline is then the whole suite's, filtered to the
    tests that ran. Runs in one checkout take turns (`make test` runs its ASGI and RSGI
    passes side by side, and both share the extracted sdist and the baselines).
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _run(subset=subset, only=only, keyword=keyword, timeout=timeout)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(*, subset: bool, only: Sequence[str], keyword: str | None, timeout: float) -> Score:
    version = installed_fastapi()
    started = time.monotonic()
    source = fetch(version)
    chapters = SUBSET if subset else None
    selection = [f"{TUTORIAL}/{c}" for c in chapters] if chapters else [TUTORIAL]
    name = "subset" if subset else "full"
    if only or keyword:
        # A narrowed run compares against the whole suite's baseline (run once if missing).
        if not (CACHE / _baseline_name(version, "full")).exists():
            _run(subset=False, only=(), keyword=None, timeout=timeout)
        narrowed = _run_trivium(source, _selection(only) if only else [TUTORIAL], keyword, timeout)
        full = json.loads((CACHE / _baseline_name(version, "full")).read_text())
        ran = {n.split("::")[0] for n in narrowed}
        baseline = {n: v for n, v in full.items() if n.split("::")[0] in ran}
        if keyword:
            baseline = {n: v for n, v in baseline.items() if n in narrowed}
        return Score(version, baseline, narrowed, time.monotonic() - started)
    baseline_file = CACHE / _baseline_name(version, name)
    runs = CACHE / "runs"
    _prepare(source, runs / "trivium", port=True)
    trivium_run = _start(runs / "trivium", selection, block=True)
    baseline_run = None
    if not baseline_file.exists():
        _prepare(source, runs / "fastapi", port=False)
        baseline_run = _start(runs / "fastapi", selection, block=False)
    trivium = _finish(*trivium_run, timeout)
    if baseline_run is not None:
        outcomes = _finish(*baseline_run, timeout)
        passed = sum(1 for outcome, _ in outcomes.values() if outcome == "passed")
        if passed < len(outcomes) // 2:
            # A broken checkout (two runs extracting into one cache at once, a half-written
            # sdist) must not be cached as FastAPI's own result: every later run would compare
            # against it and score 0 of 0.
            raise RuntimeError(
                f"FastAPI itself passed only {passed} of {len(outcomes)} tutorial tests; "
                f"delete {CACHE} and run again (one harness run at a time per checkout)"
            )
        baseline_file.write_text(json.dumps(outcomes, sort_keys=True))
    baseline = json.loads(baseline_file.read_text())
    return Score(version, baseline, trivium, time.monotonic() - started)


def _baseline_name(version: str, name: str) -> str:
    return f"baseline-{version}-{name}-py{sys.version_info[0]}{sys.version_info[1]}.json"


def _run_trivium(
    source: Path, selection: list[str], keyword: str | None, timeout: float
) -> dict[str, list[str]]:
    tree = CACHE / "runs" / "trivium"
    _prepare(source, tree, port=True)
    extra = ["-k", keyword] if keyword else []
    return _finish(*_start(tree, [*selection, *extra], block=True), timeout)


def main() -> None:
    """Print the score and the failures grouped by error (for finding compat gaps)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", action="store_true", help="run the make-test subset only")
    parser.add_argument("--min-rate", type=float, default=None, help="exit 1 below this rate")
    parser.add_argument("--show", type=int, default=3, help="test ids shown per failure group")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="CHAPTER",
        help="run only this chapter (test_body) or test file below tests/test_tutorial "
        "(repeatable); scored against the whole suite's baseline",
    )
    parser.add_argument("-k", dest="keyword", default=None, help="pytest -k expression")
    args = parser.parse_args()
    score = run(subset=args.subset, only=args.only, keyword=args.keyword)
    for message, nodes in score.failures().items():
        print(f"{len(nodes):4d}  {message}")
        for node in nodes[: args.show]:
            print(f"        {node}")
    print(score.summary())
    floor = args.min_rate
    if floor is None and (args.only or args.keyword):
        return
    if floor is None:
        floor = SUBSET_RATE if args.subset else FULL_RATE
    if score.rate < floor:
        sys.exit(f"below the committed floor {floor:.1%} (harness.py SUBSET_RATE/FULL_RATE)")


if __name__ == "__main__":
    main()
