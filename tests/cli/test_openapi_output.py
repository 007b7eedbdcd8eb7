"""`trivium openapi -o FILE` makes FILE's folder, and says in one line when it cannot write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("TRIVIUM_APP", raising=False)
    (tmp_path / "openapi_main.py").write_text("from trivium import App\napp = App()\n")
    return tmp_path


def test_a_missing_output_folder_is_created(project: Path) -> None:
    output = project / "build" / "api" / "openapi.json"
    result = CliRunner().invoke(main, ["openapi", "--app", "openapi_main:app", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert json.loads(output.read_text())["openapi"].startswith("3.1")


def test_a_file_in_the_way_of_the_folder_is_one_line(project: Path) -> None:
    (project / "build").write_text("not a folder")
    result = CliRunner().invoke(
        main, ["openapi", "--app", "openapi_main:app", "-o", "build/openapi.json"]
    )
    assert result.exit_code == 1
    assert result.output == (
        "Error: cannot write build/openapi.json: a file is in the way of its folder; "
        "choose another --output file\n"
    )
