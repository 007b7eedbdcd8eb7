"""Describe the machine and software, and time framework imports."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from harness.server import pin
from harness.server import server_env
from harness.targets import Framework

PACKAGES = (
    "trivium",
    "granian",
    "uvicorn",
    "uvloop",
    "httptools",
    "gunicorn",
    "fastapi",
    "starlette",
    "litestar",
    "msgspec",
    "blacksheep",
    "flask",
    "werkzeug",
    "django",
    "pydantic",
    "pydantic-core",
    "orjson",
    "sqlalchemy",
    "asyncpg",
    "psycopg",
    "jinja2",
)
BASELINE = "pass"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = _source_version(name) if name == "trivium" else "not installed"
    return versions


def _source_version(name: str) -> str:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        for line in pyproject.read_text().splitlines():
            if line.startswith("version"):
                return line.split("=", 1)[1].strip().strip('"') + " (source tree)"
    except OSError:
        pass
    return "not installed"


def postgres_version() -> str:
    try:
        import psycopg
        from setup_db import conninfo

        with psycopg.connect(conninfo(), connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"
    except Exception as exc:  # reported, never fatal: the DB suite reports its own failures
        return f"unavailable ({type(exc).__name__})"


def describe(wrk: str) -> dict[str, object]:
    """Return the machine and software description written into RESULTS.md."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "wrk": wrk,
        "postgres": postgres_version(),
        "packages": package_versions(),
    }


def time_imports(
    frameworks: list[Framework], runs: int = 7, cpu: str | None = None
) -> dict[str, dict[str, object]]:
    """Time ``python -c "<import>"`` per framework, interleaved; medians of ``runs`` runs.

    One discarded run per statement warms the file cache first. ``python -c pass`` is
    timed the same way as the interpreter's own start-up. Bytecode is written (whatever
    ``PYTHONDONTWRITEBYTECODE`` says): installed peers come with theirs compiled by pip,
    while trivium is imported from the source tree, which the discarded run compiles.
    """
    statements = {fw.name: fw.import_statement for fw in frameworks if fw.import_statement}
    statements["python"] = BASELINE
    samples: dict[str, list[float]] = {name: [] for name in statements}
    errors: dict[str, str] = {}
    for run in range(runs + 1):
        for name, statement in statements.items():
            if name in errors:
                continue
            elapsed, error = _time_once(statement, cpu)
            if error:
                errors[name] = error
            elif run:
                samples[name].append(elapsed)
    return {
        name: {
            "statement": statement,
            "samples_ms": samples[name],
            "median_ms": statistics.median(samples[name]) if samples[name] else None,
            "error": errors.get(name),
        }
        for name, statement in statements.items()
    }


def _time_once(statement: str, cpu: str | None) -> tuple[float, str | None]:
    cmd = pin(cpu, [sys.executable, "-c", statement])
    start = time.perf_counter()
    env = server_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled once, as pip compiles the peers
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["(no output)"]
        return elapsed, lines[-1]
    return elapsed, None
