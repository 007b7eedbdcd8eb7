"""`trivium openapi` names its app like every app command: `--app`, `$TRIVIUM_APP`, or TARGET."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests.openapi.sample_app:app"


@pytest.fixture(autouse=True)
def _from_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delenv("TRIVIUM_APP", raising=False)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--app", TARGET], {}),
        (["--app", "tests.openapi.sample_app:create_app()"], {}),
        ([], {"TRIVIUM_APP": TARGET}),
        ([TARGET], {}),
        ([TARGET], {"TRIVIUM_APP": "tests.openapi.sample_app:not_an_app"}),  # the argument wins
    ],
    ids=["--app", "--app factory", "TRIVIUM_APP", "TARGET", "TARGET over TRIVIUM_APP"],
)
def test_the_app_comes_from_app_the_environment_or_the_argument(
    args: list[str], env: dict[str, str]
) -> None:
    result = CliRunner().invoke(main, ["openapi", *args], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["info"]["title"] == "Sample"


def test_no_app_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["openapi"])
    assert result.exit_code == 2
    assert "name the app with --app module:app (or set TRIVIUM_APP)" in result.output


def test_app_and_target_together_are_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["openapi", TARGET, "--app", TARGET])
    assert result.exit_code == 2
    assert "name the app once: with --app or as TARGET, not both" in result.output
