"""`trivium new` refuses, before writing anything, a name that would hide another module."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app


@pytest.mark.parametrize("name", ["json", "email", "site", "sqlalchemy", "pytest"])
def test_a_name_that_hides_a_module_is_refused_and_nothing_is_written(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new", name])
    assert result.exit_code == 2
    assert f"a project package {name!r} would hide" in result.output
    assert "choose another name" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_folder_of_that_name_in_the_current_directory_hides_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `python -m trivium.cli` puts the current directory first on sys.path: the empty
    # folder the project is about to fill must not count as a module it would hide.
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "notes_app").mkdir()
    (tmp_path / "notes_app" / "__init__.py").write_text("")
    result = CliRunner().invoke(main, ["new", "notes_app", "--directory", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
