"""The `trivium` group: version, help, and lazily loaded battery commands."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import trivium.cli
from trivium.cli import BATTERY_COMMANDS
from trivium.cli import LazyGroup
from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

SRC = Path(trivium.cli.__file__).resolve().parents[2]
BATTERIES = [
    *("openapi", "templating", "forms", "static", "db", "auth", "admin", "realtime"),
    *("tasks", "cache", "ai", "interop", "conf", "observability", "port"),
]


def _group() -> LazyGroup:
    group = LazyGroup(name="demo")
    group.add_lazy_command("greet", "tests.cli.lazy_command:greet", "Say hello lazily.")
    return group


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("trivium ")


def test_help_lists_the_run_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert re.search(r"run +Serve an app with Granian or uvicorn\.", result.output)


def test_help_imports_no_battery_and_no_server() -> None:
    code = (
        "import sys\n"
        "from trivium.cli import main\n"
        "main(['--help'], standalone_mode=False)\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    modules = set(done.stdout.splitlines()[-1].split())
    assert not {f"trivium.{name}" for name in BATTERIES} & modules
    assert not {"granian", "uvicorn", "watchfiles", "libcst"} & modules


def test_lazy_command_is_listed_without_being_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "tests.cli.lazy_command", raising=False)
    result = CliRunner().invoke(_group(), ["--help"])
    assert result.exit_code == 0
    assert "greet  Say hello lazily." in result.output
    assert "tests.cli.lazy_command" not in sys.modules


def test_lazy_command_is_imported_when_run() -> None:
    result = CliRunner().invoke(_group(), ["greet"])
    assert result.exit_code == 0
    assert result.output == "hello from a lazy command\n"


def test_lazy_command_must_be_a_click_command() -> None:
    group = LazyGroup(name="demo")
    group.add_lazy_command("bad", "tests.cli.lazy_command:not_a_command", "Broken.")
    result = CliRunner().invoke(group, ["bad"])
    assert isinstance(result.exception, TypeError)
    assert "not a click command" in str(result.exception)


def test_lazy_command_missing_an_extra_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "needs_extra.py").write_text(
        "from trivium.errors import MissingDependencyError\n"
        "raise MissingDependencyError('fancylib', 'fancy')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    group = LazyGroup(name="demo")
    group.add_lazy_command("fancy", "needs_extra:command", "Needs an extra.")
    result = CliRunner().invoke(group, ["fancy"])
    assert result.exit_code == 1
    assert "'fancy' is not available" in result.output
    assert "pip install 'trivium[fancy]'" in result.output


def test_battery_commands_point_at_click_commands() -> None:
    for name, lazy in BATTERY_COMMANDS.items():
        module, _, attribute = lazy.import_path.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command), name
        assert name in main.list_commands(click.Context(main))


def test_help_lists_the_commands_of_the_plugins_of_the_app_named_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_APP", "examples.tasks.app:app")
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Commands of examples.tasks.app:app's plugins" in result.output
    assert re.search(r"worker +Run the app's background tasks", result.output)
    monkeypatch.setenv("TRIVIUM_APP", "tests.cli.no_such_module:app")
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0  # the built-in commands are still listed
    assert "could not load the app" in result.output
    assert re.search(r"run +Serve an app", result.output)
