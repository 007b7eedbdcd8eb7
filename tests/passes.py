"""Run the test suite's two passes, ASGI and RSGI, side by side: what `make test` calls.

The whole suite runs over ASGI, then again with every app driven through RSGI
(`TRIVIUM_TEST_INTERFACE=rsgi`), without the live-server tests and the modules marked
`drives_no_app` (see conftest.py). Each pass is one pytest process, mostly busy on one
core, so the two run at the same time and the suite takes about as long as its longer
pass.

Passes must not share server-side state: the RSGI pass gets its own PostgreSQL and
MariaDB databases (the configured name with `_rsgi` appended, created when missing) and
the next Redis database number. Without those variables both passes use SQLite files
and in-memory backends in their own temporary directories, as usual.

    python tests/passes.py [--sequential] [pytest arguments...]

Each pass writes its output to `.cache/passes/<name>.log`; the logs are printed in
order when both are done. The exit status is the first failing pass's, else 0.
"""

from __future__ import annotations

import asyncio
import compileall
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

REPO = Path(__file__).resolve().parents[1]
LOGS = REPO / ".cache" / "passes"
SUFFIX = "_rsgi"


def _with_database(url: str, suffix: str) -> tuple[str, str]:
    """Return `url` naming the database `<name><suffix>`, and that name."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + suffix
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _next_redis_db(url: str) -> str:
    parts = urlsplit(url)
    current = parts.path.lstrip("/") or "0"
    return urlunsplit(parts._replace(path=f"/{int(current) + 1}"))


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


def rsgi_environment(base: dict[str, str]) -> dict[str, str]:
    """Return the RSGI pass's environment: its own databases and Redis number."""
    env = dict(base, TRIVIUM_TEST_INTERFACE="rsgi")
    postgres = base.get("TRIVIUM_TEST_POSTGRES_URL")
    if postgres:
        env["TRIVIUM_TEST_POSTGRES_URL"], name = _with_database(postgres, SUFFIX)
        asyncio.run(_create_postgres(postgres, name))
    mysql = base.get("TRIVIUM_TEST_MYSQL_URL")
    if mysql:
        env["TRIVIUM_TEST_MYSQL_URL"], name = _with_database(mysql, SUFFIX)
        asyncio.run(_create_mysql(mysql, name))
    redis = base.get("TRIVIUM_TEST_REDIS_URL")
    if redis:
        env["TRIVIUM_TEST_REDIS_URL"] = _next_redis_db(redis)
    return env


def main(argv: list[str]) -> int:
    """Run both passes (side by side unless `--sequential`); return the exit status."""
    sequential = "--sequential" in argv
    extra = [a for a in argv if a != "--sequential"]
    # The slowest tests are listed at the end of each log: the suite must stay well under
    # 15 minutes, and those are where time goes first.
    pytest = [sys.executable, "-m", "pytest", "-q", "--durations=30", *extra]
    passes = [
        ("asgi", pytest, dict(os.environ)),
        (
            "rsgi",
            [*pytest, "-p", "no:cacheprovider", "-m", "not live and not drives_no_app"],
            rsgi_environment(dict(os.environ)),
        ),
    ]
    LOGS.mkdir(parents=True, exist_ok=True)
    # Every server and CLI the tests start imports trivium: compiled once here, it is not
    # compiled again in each process when PYTHONDONTWRITEBYTECODE is set (as in CI).
    # Nothing else is written: a test rewriting a module within one second must never
    # load a stale .pyc of it.
    compileall.compile_dir(REPO / "src" / "trivium", quiet=1)
    running: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    statuses: list[int] = []
    for name, command, env in passes:
        log = LOGS / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)  # noqa: S603
        print(f"[{name}] {' '.join(command[1:])} > {log.relative_to(REPO)}", flush=True)  # noqa: T201
        running.append((name, process, log))
        if sequential:
            statuses.append(process.wait())
    for name, process, log in running:
        status = process.wait()
        if not sequential:
            statuses.append(status)
        print(f"\n===== {name} pass: exit status {status} =====", flush=True)  # noqa: T201
        sys.stdout.write(log.read_text(errors="replace"))
        sys.stdout.flush()
    return next((status for status in statuses if status != 0), 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
