"""The `trivium.db.testing` plugin fails in one line when the test database cannot be made.

A server that is down or refuses the login is said as `trivium db` says it
(`db-unreachable`, `db-login-failed`), not as the driver's tracebacks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.drives_no_app

PROJECT = Path(__file__).parent / "plugin_project"


def run_checks(tmp_path: Path, database_url: str) -> str:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIVIUM_")}
    env["TRIVIUM_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = str(project)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "anyio"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    return result.stdout + result.stderr


def test_a_server_that_is_down_fails_the_session_in_one_line(tmp_path: Path) -> None:
    output = run_checks(tmp_path, "postgresql://app@127.0.0.1:1/shop")

    assert "the test database 'test_shop': [db-unreachable] no database server" in output
    assert "Traceback" not in output
    assert "asyncpg" not in output


def test_a_login_the_server_refuses_fails_the_session_in_one_line(tmp_path: Path) -> None:
    server = os.environ.get("TRIVIUM_TEST_POSTGRES_URL", "")
    if not server:
        pytest.skip("postgresql tests need TRIVIUM_TEST_POSTGRES_URL")
    role = f"nobody_{uuid.uuid4().hex[:8]}"
    url = make_url(server).set(username=role, password="x")

    output = run_checks(tmp_path, url.render_as_string(hide_password=False))

    assert f"[db-login-failed] the database server at {url.host}:" in output
    assert "create the user (role)" in output
    assert "Traceback" not in output
