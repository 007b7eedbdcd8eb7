"""Run the test suite's two passes, ASGI and RSGI, in shards side by side: `make test`.

The whole suite runs over ASGI, then again with every app driven through RSGI
(`TRIVIUM_TEST_INTERFACE=rsgi`), without the live-server tests and the modules marked
`drives_no_app` (see conftest.py). Each pass is split in `SLOTS` shards of test modules
of about the same length (by the modules' seconds in tests/module_seconds.json; a shard
is a pytest process given its modules, so it imports no others), and the shards run
`SLOTS` at a time, the ASGI ones first (`TRIVIUM_TEST_SLOTS` changes how many).

Processes running at once must not share server-side state: slot k (from 2) gets its own
PostgreSQL and MariaDB databases (the configured name with `_k` appended, created when
missing) and the Redis database k - 1 numbers after the configured one. Without those
variables every process uses SQLite files and in-memory backends in its own temporary
directories, as usual.

    python tests/passes.py [--sequential] [--seconds] [pytest arguments...]

`--sequential` runs each pass whole, one after the other, in one process at a time;
so does naming test paths (`python tests/passes.py tests/db`). Each
shard writes its output to `.cache/passes/<pass>-<k>.log`; the logs are printed in order
once all are done. The exit status is the first failing shard's, else 0. `--seconds`
also writes tests/module_seconds.json afresh from what each module took (the reports of
`TRIVIUM_TEST_APPS_REPORT`): run it after adding slow tests.
"""

from __future__ import annotations

import ast
import asyncio
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

REPO = Path(__file__).resolve().parents[1]
LOGS = REPO / ".cache" / "passes"
SLOTS = int(os.environ.get("TRIVIUM_TEST_SLOTS", "2"))
SECONDS = REPO / "tests" / "module_seconds.json"
NO_TESTS = 5  # pytest.ExitCode.NO_TESTS_COLLECTED
TESTPATHS = ("tests", "examples")  # as pyproject.toml's


def _with_database(url: str, suffix: str) -> tuple[str, str]:
    """Return `url` naming the database `<name><suffix>`, and that name."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + suffix
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _redis_db(url: str, offset: int) -> str:
    parts = urlsplit(url)
    current = parts.path.lstrip("/") or "0"
    return urlunsplit(parts._replace(path=f"/{int(current) + offset}"))


async def _create_postgres(url: str, name: str) -> None:
    import asyncpg

    server = urlunsplit(urlsplit(url)._replace(scheme="postgresql", path="/postgres"))
    connection = await asyncpg.connect(server)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _create_mysql(url: str, name: str) -> None:
    import aiomysql

    parts = urlsplit(url)
    connection = await aiomysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
    )
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
    finally:
        connection.close()


def slot_environment(base: dict[str, str], slot: int) -> dict[str, str]:
    """Return slot number `slot`'s environment (from 0): its own databases and Redis number."""
    if slot == 0:
        return dict(base)
    env = dict(base)
    suffix = f"_{slot + 1}"
    postgres = base.get("TRIVIUM_TEST_POSTGRES_URL")
    if postgres:
        env["TRIVIUM_TEST_POSTGRES_URL"], name = _with_database(postgres, suffix)
        asyncio.run(_create_postgres(postgres, name))
    mysql = base.get("TRIVIUM_TEST_MYSQL_URL")
    if mysql:
        env["TRIVIUM_TEST_MYSQL_URL"], name = _with_database(mysql, suffix)
        asyncio.run(_create_mysql(mysql, name))
    redis = base.get("TRIVIUM_TEST_REDIS_URL")
    if redis:
        env["TRIVIUM_TEST_REDIS_URL"] = _redis_db(redis, slot)
    return env


@dataclass
class Job:
    """One pytest process: a shard of a pass."""

    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return LOGS / f"{self.name}.log"

    def start(self, slot: dict[str, str]) -> None:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603
                self.command, cwd=REPO, env={**slot, **self.env}, stdout=out, stderr=out
            )
        shown = " ".join(arg for arg in self.command[1:] if not arg.endswith(".py"))
        print(f"[{self.name}] {shown} > {self.log.relative_to(REPO)}", flush=True)  # noqa: T201


def test_modules() -> list[str]:
    """Every test module pytest collects (`testpaths`, minus conftest `collect_ignore`s)."""
    ignored = set()
    for conftest in REPO.glob("tests/**/conftest.py"):
        for node in ast.parse(conftest.read_text()).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "collect_ignore"
                for target in node.targets
            ):
                ignored |= {conftest.parent / name for name in ast.literal_eval(node.value)}
    return sorted(
        path.relative_to(REPO).as_posix()
        for top in TESTPATHS
        for path in (REPO / top).rglob("test_*.py")
        if not any(folder in path.parents or folder == path for folder in ignored)
    )


def module_marks(path: str) -> set[str]:
    """The names of the `pytest.mark.*` in the module-level `pytestmark` of `path`."""
    for node in ast.parse((REPO / path).read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytestmark" for target in node.targets
        ):
            return {
                child.attr
                for child in ast.walk(node.value)
                if isinstance(child, ast.Attribute)
                and isinstance(child.value, ast.Attribute)
                and child.value.attr == "mark"
            }
    return set()


def shards(paths: list[str], seconds: dict[str, float], count: int) -> list[list[str]]:
    """Split `paths` in `count` shards of about the same seconds (longest first, greedily)."""

    def length(path: str) -> float:
        return seconds.get(path, 0.1 * (REPO / path).read_text().count("def test_"))

    split: list[list[str]] = [[] for _ in range(count)]
    load = [0.0] * count
    for path in sorted(paths, key=lambda path: (-length(path), path)):
        shortest = load.index(min(load))
        split[shortest].append(path)
        load[shortest] += length(path)
    return [sorted(shard) for shard in split if shard]


def jobs(extra: list[str], count: int, reports: Path | None = None) -> list[Job]:
    """The shards of both passes, ASGI first; one job per pass if `extra` names paths."""
    # The slowest tests are listed at the end of each log: the suite must stay well under
    # 15 minutes, and those are where time goes first.
    pytest = [sys.executable, "-m", "pytest", "-q", "--durations=30", "-p", "no:cacheprovider"]
    chosen = any((REPO / arg.split("::")[0]).exists() for arg in extra if arg[:1] != "-")
    modules = test_modules()
    known = json.loads(SECONDS.read_text()) if SECONDS.exists() else {}
    over_rsgi = [path for path in modules if not module_marks(path) & {"live", "drives_no_app"}]
    passes = [
        ("asgi", [*pytest, *extra], modules),
        ("rsgi", [*pytest, "-m", "not live and not drives_no_app", *extra], over_rsgi),
    ]
    found = []
    for name, command, paths in passes:
        env = {"TRIVIUM_TEST_INTERFACE": name}
        split = [[]] if chosen else shards(paths, known.get(name, {}), count)
        for number, shard in enumerate(split, start=1):
            job_env = dict(env)
            if reports is not None:
                job_env["TRIVIUM_TEST_APPS_REPORT"] = str(reports / f"{name}-{number}.json")
            found.append(Job(f"{name}-{number}", [*command, *shard], job_env))
    return found


def run(pending: list[Job], slots: list[dict[str, str]]) -> int:
    """Run `pending` in `slots` (each an environment), print the logs; the exit status."""
    LOGS.mkdir(parents=True, exist_ok=True)
    for old in LOGS.glob("*.log"):
        old.unlink()
    # Every server and CLI the tests start imports trivium: compiled once here, it is not
    # compiled again in each process when PYTHONDONTWRITEBYTECODE is set (as in CI).
    # Nothing else is written: a test rewriting a module within one second must never
    # load a stale .pyc of it.
    compileall.compile_dir(REPO / "src" / "trivium", quiet=1)
    queue = list(pending)
    busy: dict[int, Job] = {}
    while queue or busy:
        for index, slot in enumerate(slots):
            if index not in busy and queue:
                busy[index] = job = queue.pop(0)
                job.start(slot)
        time.sleep(0.2)
        for index, job in list(busy.items()):
            if job.process is not None and job.process.poll() is not None:
                del busy[index]
    statuses = []
    for job in pending:
        assert job.process is not None
        statuses.append(job.process.returncode)
        print(f"\n===== {job.name}: exit status {job.process.returncode} =====", flush=True)  # noqa: T201
        sys.stdout.write(job.log.read_text(errors="replace"))
        sys.stdout.flush()
    # 5 is pytest's "no tests collected": the RSGI pass of paths whose modules are all
    # marked `drives_no_app` (`python tests/passes.py tests/perf`) has nothing to run.
    return next((status for status in statuses if status not in (0, NO_TESTS)), 0)


def write_seconds(reports: Path) -> None:
    """Write SECONDS from the passes' reports in `reports`: each module's seconds per pass."""
    seconds: dict[str, dict[str, float]] = {"asgi": {}, "rsgi": {}}
    for report in sorted(reports.glob("*.json")):
        kind = report.name.split("-", 1)[0]
        for module, entry in json.loads(report.read_text()).items():
            seconds[kind][module] = round(seconds[kind].get(module, 0.0) + entry["seconds"], 1)
    SECONDS.write_text(json.dumps(seconds, indent=1, sort_keys=True) + "\n")
    print(f"wrote {SECONDS.relative_to(REPO)}", flush=True)  # noqa: T201


def main(argv: list[str]) -> int:
    """Run both passes' shards (in one slot if `--sequential`); return the exit status."""
    extra = [a for a in argv if a not in ("--sequential", "--seconds")]
    base = dict(os.environ)
    if "--sequential" in argv:
        return run(jobs(extra, 1), [base])
    slots = [slot_environment(base, slot) for slot in range(SLOTS)]
    if "--seconds" not in argv:
        return run(jobs(extra, SLOTS), slots)
    with tempfile.TemporaryDirectory() as folder:
        status = run(jobs(extra, SLOTS, Path(folder)), slots)
        if status == 0:
            write_seconds(Path(folder))
        return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
