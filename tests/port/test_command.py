"""`trivium port fastapi PATH`: diff by default, --write, --check for CI, problems listed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

MAIN = """\
from fastapi import Depends, FastAPI  # framework
from fastapi_users import FastAPIUsers

app = FastAPI()
"""
PORTED = MAIN.replace("from fastapi import", "from trivium.compat.fastapi import")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "main.py").write_text(MAIN)
    (tmp_path / "app" / "util.py").write_text("import json\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "dep.py").write_text("import fastapi\n")
    return tmp_path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["port", "fastapi", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_default_prints_a_unified_diff_and_writes_nothing(project: Path) -> None:
    code, out, err = _run(str(project))
    assert code == 0
    main_py = project / "app" / "main.py"
    assert main_py.read_text() == MAIN
    assert f"--- a/{main_py.as_posix()}\n+++ b/{main_py.as_posix()}\n" in out
    assert "-from fastapi import Depends, FastAPI  # framework\n" in out
    assert "+from trivium.compat.fastapi import Depends, FastAPI  # framework\n" in out
    assert "dep.py" not in out
    assert "1 imports in 1 file would be rewritten (use --write)." in err


def test_write_rewrites_the_files_in_place(project: Path) -> None:
    code, _out, err = _run("--write", str(project))
    assert code == 0
    assert (project / "app" / "main.py").read_text() == PORTED
    assert (project / "app" / "util.py").read_text() == "import json\n"
    assert (project / ".venv" / "lib" / "dep.py").read_text() == "import fastapi\n"
    assert "Rewrote 1 imports in 1 file." in err


def test_check_fails_when_changes_are_needed_and_passes_after_write(project: Path) -> None:
    code, out, _err = _run("--check", "--no-diff", str(project))
    assert code == 1
    assert out == ""
    assert (project / "app" / "main.py").read_text() == MAIN
    assert _run("--write", str(project))[0] == 0
    code, out, err = _run("--check", str(project))
    assert code == 0
    assert out == ""
    assert "Nothing to convert." in err


def test_unconvertible_imports_are_listed_with_file_and_line(project: Path) -> None:
    _code, _out, err = _run(str(project))
    main_py = project / "app" / "main.py"
    assert "Left unconverted (1):" in err
    assert f"  {main_py}:2: fastapi_users is a third-party FastAPI/Starlette plugin" in err


def test_strict_fails_on_unconvertible_imports(project: Path) -> None:
    _run("--write", str(project))
    code, _out, err = _run("--check", "--strict", str(project))
    assert code == 1
    assert "fastapi_users" in err


def test_strict_check_passes_on_an_already_ported_project(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("from fastapi import FastAPI\n")
    assert _run("--write", str(tmp_path))[0] == 0
    code, out, err = _run("--check", "--strict", str(tmp_path))
    assert code == 0
    assert out == ""
    assert "Left unconverted" not in err


def test_write_and_check_together_are_a_usage_error(project: Path) -> None:
    result = CliRunner().invoke(main, ["port", "fastapi", "--write", "--check", str(project)])
    assert result.exit_code == 2
    assert "--write and --check exclude each other" in result.output


def test_a_file_that_does_not_parse_is_reported_and_fails(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("from fastapi import Depends\ndef broken(:\n")
    (tmp_path / "good.py").write_text("from fastapi import Depends\n")
    code, _out, err = _run("--write", str(tmp_path))
    assert code == 1
    assert f"{tmp_path / 'bad.py'}:2: could not parse" in err
    assert (tmp_path / "good.py").read_text() == "from trivium.compat.fastapi import Depends\n"
    assert (tmp_path / "bad.py").read_text().startswith("from fastapi import")


def test_a_single_file_path_is_ported(tmp_path: Path) -> None:
    target = tmp_path / "main.py"
    target.write_text(MAIN)
    assert _run("--write", str(target))[0] == 0
    assert target.read_text() == PORTED


def test_console_script_runs_the_command(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trivium.cli", "port", "fastapi", "--check", str(project)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "+from trivium.compat.fastapi import Depends, FastAPI" in done.stdout
