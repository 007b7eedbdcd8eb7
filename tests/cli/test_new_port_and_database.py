"""`trivium new`: `make run PORT=...` serves another port with links pointing at it, and a
PostgreSQL project's README says to create its database first."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

FAKE_PYTHON = '#!/bin/sh\necho "site=${TRIVIUM_SITE_URL:-unset} args=$*"\n'


def _generate(parent: Path, name: str, *args: str) -> tuple[Path, str]:
    folder = parent / name
    result = CliRunner().invoke(main, ["new", name, "--no-auth", "--directory", str(folder), *args])
    assert result.exit_code == 0, result.output
    return folder, result.output


def _make_run(project: Path, *args: str, site_url: str | None = None) -> list[str]:
    """The commands `make run` runs, with a stand-in Python that prints them and the site URL."""
    fake = project / "fake-python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIVIUM_", "MAKE", "PORT"))}
    if site_url is not None:
        env["TRIVIUM_SITE_URL"] = site_url
    done = subprocess.run(
        ["make", "-s", "run", f"PYTHON={fake}", *args],  # noqa: S607 - make from PATH
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.splitlines()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("make") is None:
        pytest.skip("needs make")
    return _generate(tmp_path_factory.mktemp("port"), "notes")[0]


def test_make_run_serves_port_8000_with_the_site_url_of_env(project: Path) -> None:
    migrate, run = _make_run(project)
    assert migrate == "site=unset args=-m trivium.cli db --app notes.app:create_app() migrate"
    assert run == "site=unset args=-m trivium.cli run notes.app:create_app() --reload --port 8000"
    assert "TRIVIUM_SITE_URL=http://localhost:8000\n" in (project / ".env").read_text()


def test_make_run_on_another_port_points_links_at_it(project: Path) -> None:
    run = _make_run(project, "PORT=8123")[-1]
    assert run == (
        "site=http://localhost:8123 args=-m trivium.cli run notes.app:create_app() "
        "--reload --port 8123"
    )


def test_a_site_url_in_the_environment_wins(project: Path) -> None:
    run = _make_run(project, "PORT=8123", site_url="https://notes.example")[-1]
    assert run.startswith("site=https://notes.example args=")
    assert run.endswith("--port 8123")


def test_a_postgresql_project_says_to_create_its_database_first(tmp_path: Path) -> None:
    project, output = _generate(tmp_path, "pgnotes", "--db", "postgresql")
    assert "create the database first: see README.md, The database" in output
    readme = (project / "README.md").read_text()
    assert "### The database" in readme
    assert "postgresql://pgnotes:pgnotes@127.0.0.1:5432/pgnotes" in readme
    assert (
        "docker run -d --name pgnotes-db -p 127.0.0.1:5432:5432 -e POSTGRES_USER=pgnotes "
        "-e POSTGRES_PASSWORD=pgnotes -e POSTGRES_DB=pgnotes postgres:17"
    ) in readme
    assert (
        """psql -c "CREATE ROLE pgnotes LOGIN CREATEDB PASSWORD 'pgnotes'" """
        '''-c "CREATE DATABASE pgnotes OWNER pgnotes"'''
    ) in readme


def test_a_sqlite_project_needs_no_database_created(tmp_path: Path) -> None:
    project, output = _generate(tmp_path, "litenotes")
    assert "create the database first" not in output
    assert "### The database" not in (project / "README.md").read_text()
