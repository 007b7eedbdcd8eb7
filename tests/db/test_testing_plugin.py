"""The `trivium.db.testing` pytest plugin, run on a small project in a subprocess per backend.

The project (`plugin_project/`) is copied into a temporary folder and its checks run with
this interpreter: the plugin creates the test database next to the configured one,
migrates it once, and rolls back each test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from trivium.db import async_url

PROJECT = Path(__file__).parent / "plugin_project"
BACKENDS = {"postgresql": "TRIVIUM_TEST_POSTGRES_URL", "mysql": "TRIVIUM_TEST_MYSQL_URL"}


def _run_checks(project: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIVIUM_")}
    if "TRIVIUM_TEST_INTERFACE" in os.environ:  # the RSGI pass drives these apps over RSGI too
        env["TRIVIUM_TEST_INTERFACE"] = os.environ["TRIVIUM_TEST_INTERFACE"]
    env["TRIVIUM_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = str(project)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # faster start; the plugin needs only anyio's
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "anyio"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    return project


async def _databases(url: str) -> set[str]:
    engine = create_async_engine(async_url(url))
    backend = make_url(url).get_backend_name()
    query = "SELECT datname FROM pg_database" if backend == "postgresql" else "SHOW DATABASES"
    try:
        async with engine.connect() as connection:
            return {row[0] for row in await connection.execute(text(query))}
    finally:
        await engine.dispose()


def test_sqlite_project_runs_on_a_temporary_test_database(tmp_path: Path) -> None:
    project = _copy(tmp_path)
    result = _run_checks(project, "sqlite:///./app.db")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "10 passed" in result.stdout
    assert not (project / "app.db").exists()  # the configured database is never touched


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_server_project_runs_on_a_test_prefixed_database(backend: str, tmp_path: Path) -> None:
    url = os.environ.get(BACKENDS[backend], "")
    if not url:
        pytest.skip(f"{backend} tests need {BACKENDS[backend]}")
    result = _run_checks(_copy(tmp_path), url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "10 passed" in result.stdout
    test_name = f"test_{make_url(url).database}"
    assert test_name not in anyio.run(_databases, url)  # dropped at the end of the session


def test_a_missing_factory_is_a_configuration_error(tmp_path: Path) -> None:
    project = _copy(tmp_path)
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace('trivium_app = "notes.app:create_app"\n', ""))
    result = _run_checks(project, "sqlite:///./app.db")
    assert result.returncode != 0
    assert "testing-no-app" in result.stdout
