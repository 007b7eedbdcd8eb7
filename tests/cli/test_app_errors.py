"""Commands that load an app: what they print when the app cannot be loaded or reached.

An app factory that raises (invalid settings in the environment or `.env`, a bug) is one
line with a code and exit status 1 in every such command, as `trivium run` does; so is a
database that does not answer, without the outage log line a server writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

SRC = Path(__file__).resolve().parents[2] / "src"

APP = """
from pathlib import Path

from trivium import App
from trivium.conf import Settings as BaseSettings
from trivium.db import Database


class Settings(BaseSettings):
    page_size: int = 50


def create_app():
    settings = Settings()
    db = Database.from_settings(settings, migrations=Path(__file__).parent / "migrations")
    return App(plugins=[settings, db])


def broken_app():
    raise ValueError("no settings")


def environ_app():
    import os

    return os.environ["TRIVIUM_TEST_SURELY_UNSET"]
"""

COMMANDS = [
    ["db", "migrate"],
    ["db", "makemigrations", "-m", "add status"],
    ["db", "check"],
    ["routes"],
    ["check"],
    ["createsuperuser", "--email", "ada@example.com", "--no-input"],
    ["changepassword", "ada"],
    ["shell"],
    ["openapi"],
]


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Write the app module into a fresh folder, the working directory, and name it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("TRIVIUM_APP", "TRIVIUM_PAGE_SIZE", "TRIVIUM_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    name = f"errors_app_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(APP)
    return name


def _subprocess(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRIVIUM_")}
    return subprocess.run(  # noqa: S603 - our interpreter and module
        [sys.executable, "-m", "trivium.cli", *args],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC)]), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command[:2]))
def test_a_factory_raising_a_configuration_error_is_its_one_line(
    module: str, command: list[str]
) -> None:
    env = {"TRIVIUM_APP": f"{module}:create_app()", "TRIVIUM_PAGE_SIZE": "abc"}
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.output.startswith(
        "Error: [settings-invalid] invalid Settings: page_size (TRIVIUM_PAGE_SIZE in the "
        "environment): "
    )
    assert result.output.endswith("(see docs/errors.md#configuration-errors)\n")
    assert result.output.count("\n") == 1


def test_an_error_raised_in_the_standard_library_names_the_users_line(module: str) -> None:
    env = {"TRIVIUM_APP": f"{module}:environ_app()"}
    result = CliRunner().invoke(main, ["routes"], env=env)
    assert result.exit_code == 1, result.output
    assert "KeyError: 'TRIVIUM_TEST_SURELY_UNSET'" in result.output
    assert f"{module}.py, line 26)" in result.output  # not `<frozen os>`
    assert "<frozen" not in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command[:2]))
def test_a_factory_raising_anything_else_is_named_in_one_line(
    module: str, command: list[str]
) -> None:
    result = CliRunner().invoke(main, command, env={"TRIVIUM_APP": f"{module}:broken_app()"})
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.output.startswith(
        f"Error: [server.import-failed] the factory '{module}:broken_app()' raised "
        "ValueError: no settings (at "
    )
    assert f"{module}.py, line 20)" in result.output
    assert result.output.count("\n") == 1


def test_a_function_named_without_its_parentheses_is_refused(module: str) -> None:
    result = CliRunner().invoke(main, ["routes", "--app", f"{module}:create_app"])
    assert result.exit_code == 1
    assert (
        f"[server.not-an-app] '{module}:create_app' is a function, not an app: did you "
        f"mean '{module}:create_app()'?"
    ) in result.output


def test_invalid_settings_stop_db_migrate_with_one_line_and_no_traceback(
    module: str, tmp_path: Path
) -> None:
    # The first command `make run` runs in a generated project, with a typo in `.env`.
    (tmp_path / ".env").write_text("TRIVIUM_PAGE_SIZE=abc\n")
    done = _subprocess(tmp_path, "db", "--app", f"{module}:create_app()", "migrate")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(
        "Error: [settings-invalid] invalid Settings: page_size (TRIVIUM_PAGE_SIZE in "
    )
    assert ".env): Input should be a valid integer" in done.stderr
    assert done.stderr.count("\n") == 1


def test_an_unreachable_database_is_one_line_without_the_outage_log(
    module: str, tmp_path: Path
) -> None:
    # Nothing listens on port 1.
    url = "postgresql://app@127.0.0.1:1/blog"
    done = _subprocess(
        tmp_path, "db", "--app", f"{module}:create_app()", "migrate", TRIVIUM_DATABASE_URL=url
    )
    assert done.returncode == 1
    assert "unavailable, answering 503/504" not in done.stderr
    assert done.stderr.startswith("Error: [db-unreachable] no database server answers at ")
    assert done.stderr.count("\n") == 1
