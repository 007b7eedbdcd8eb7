"""`trivium openapi module:app`: the document as JSON or YAML, to stdout or a file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.openapi.sample_app import app

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

TARGET = "tests.openapi.sample_app:app"


def test_prints_the_document_as_json() -> None:
    result = CliRunner().invoke(main, ["openapi", TARGET])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == app.openapi()
    assert "ünïcode" in result.output


def test_writes_yaml_to_a_file_chosen_by_its_suffix(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    out = tmp_path / "openapi.yaml"
    result = CliRunner().invoke(main, ["openapi", TARGET, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == app.openapi()


def test_format_option_wins_over_the_suffix(tmp_path: Path) -> None:
    out = tmp_path / "openapi.yaml"
    result = CliRunner().invoke(main, ["openapi", TARGET, "-o", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["info"]["title"] == "Sample"


def test_factory_targets_are_called() -> None:
    result = CliRunner().invoke(main, ["openapi", "tests.openapi.sample_app:create_app()"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["info"]["version"] == "1.2.3"


def test_yaml_without_pyyaml_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    result = CliRunner().invoke(main, ["openapi", TARGET, "--format", "yaml"])
    assert result.exit_code == 1
    assert "pip install pyyaml" in result.output


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no colon", "is not an import string"),
        ("tests.openapi.no_such_module:app", "importing 'tests.openapi.no_such_module' raised"),
        ("tests.openapi.sample_app:missing", "has no attribute 'missing'"),
        ("tests.openapi.sample_app:not_an_app", "is int, not a trivium App"),
    ],
)
def test_bad_targets_fail_with_a_clear_message(target: str, message: str) -> None:
    result = CliRunner().invoke(main, ["openapi", target])
    assert result.exit_code != 0
    assert message in result.output


def test_configuration_errors_are_reported() -> None:
    result = CliRunner().invoke(main, ["openapi", "tests.openapi.sample_app:broken"])
    assert result.exit_code == 1
    assert "openapi-duplicate-operation-id" in result.output
