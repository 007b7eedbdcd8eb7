"""`TRIVIUM_ENV` in any case picks the environment's dotenv file, as `Settings` reads it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium import App
from trivium.cli import main
from trivium.conf import Settings
from trivium.conf import env_files
from trivium.environment import environment_value
from trivium.environment import production
from trivium.errors import ConfigurationError

pytestmark = [
    pytest.mark.skipif(
        os.name != "posix", reason="only POSIX environments tell names apart by case"
    ),
    pytest.mark.drives_no_app,
]

KEY = "k" * 40


class ProjectSettings(Settings):
    page_size: int = 20


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder, with no spelling of TRIVIUM_ENV from the caller's shell."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper() in ("TRIVIUM_ENV", "TRIVIUM_DEBUG", "TRIVIUM_SECRET_KEY"):
            monkeypatch.delenv(name)
    (tmp_path / ".env.production").write_text(f"TRIVIUM_SECRET_KEY={KEY}\nTRIVIUM_PAGE_SIZE=99\n")
    return tmp_path


@pytest.mark.parametrize("name", ["TRIVIUM_ENV", "trivium_env", "Trivium_Env"])
def test_any_spelling_reads_the_environments_file(
    project: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "production")
    assert env_files() == (project / ".env", project / ".env.production")
    settings = ProjectSettings()
    assert (settings.env, settings.page_size) == ("production", 99)
    assert settings.env_files[-1] == project / ".env.production"


def test_two_spellings_with_one_value_are_accepted(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    monkeypatch.setenv("trivium_env", "production")
    assert ProjectSettings().page_size == 99


def test_two_spellings_with_different_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "staging")
    monkeypatch.setenv("trivium_env", "production")
    message = r"TRIVIUM_ENV='staging' and trivium_env='production'.*unset all but one"
    with pytest.raises(ConfigurationError, match=message) as caught:
        ProjectSettings()
    assert caught.value.code == "settings-invalid"


def test_without_the_variable_it_is_development(project: Path) -> None:
    assert env_files() == (project / ".env", project / ".env.development")
    assert ProjectSettings().page_size == 20


@pytest.mark.parametrize("name", ["TRIVIUM_ENV", "trivium_env"])
def test_the_app_and_the_server_read_any_spelling(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    assert not App().production
    monkeypatch.setenv(name, "Production")
    assert App().production
    assert production()
    assert environment_value("TRIVIUM_ENV") == "Production"


def test_the_app_refuses_two_spellings_with_different_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "development")
    monkeypatch.setenv("trivium_env", "production")
    with pytest.raises(ConfigurationError, match="unset all but one") as caught:
        App().production  # noqa: B018 - the property reads the environment
    assert caught.value.code == "settings-invalid"


def test_the_deploy_check_reads_any_spelling(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "lower_env_app.py").write_text("from trivium import App\napp = App()\n")
    monkeypatch.syspath_prepend(str(project))
    monkeypatch.setenv("trivium_env", "production")
    result = CliRunner().invoke(main, ["check", "--deploy", "--app", "lower_env_app:app"])
    assert "deploy.env" not in result.output
    monkeypatch.delenv("trivium_env")
    result = CliRunner().invoke(main, ["check", "--deploy", "--app", "lower_env_app:app"])
    assert "WARNING deploy.env" in result.output
