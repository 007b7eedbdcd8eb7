"""What `trivium new` writes serves as its Makefile says: `make run` and the notes API."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scaffold") / "notes"
    result = CliRunner().invoke(main, ["new", "notes", "--no-auth", "--directory", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def test_make_run_reloads_and_the_dev_extra_installs_the_reloader(project: Path) -> None:
    makefile = (project / "Makefile").read_text()
    assert "run '$(APP)' --reload" in makefile
    assert ".venv/bin/pip install -e '.[dev]'" in makefile
    extras = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    dev = [Requirement(text) for text in extras["optional-dependencies"]["dev"]]
    assert any(r.name == "trivium" and "reload" in r.extras for r in dev)


def test_an_id_past_the_integer_range_is_a_422(project: Path) -> None:
    # The project's own test of its API checks it; run that test as `make test` would.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIVIUM_", "MAKE"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTEST_ADDOPTS"] = "-p anyio"
    api = (project / "notes" / "api.py").read_text()
    assert "note_id: NoteId" in api
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/test_api.py", "-k", "missing_note"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
