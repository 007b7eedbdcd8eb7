"""Production mode refuses debug, wherever `TRIVIUM_DEBUG` comes from (`.env` included)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main
from trivium.conf import Settings
from trivium.errors import ConfigurationError

pytestmark = pytest.mark.drives_no_app

KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEF"


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a project folder whose `.env` is the development one `trivium new` writes."""
    monkeypatch.chdir(tmp_path)
    for name in ("ENV", "DEBUG", "SECRET_KEY", "SECRETS_DIR", "APP", "SETTINGS"):
        monkeypatch.delenv(f"TRIVIUM_{name}", raising=False)
    (tmp_path / ".env").write_text(f"TRIVIUM_DEBUG=true\nTRIVIUM_SECRET_KEY={KEY}\n")
    return tmp_path


def test_production_refuses_debug_from_the_development_dotenv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    with pytest.raises(ConfigurationError, match=r"TRIVIUM_DEBUG in .*\.env\)") as caught:
        Settings()
    assert caught.value.code == "settings-production-debug"
    assert "TRIVIUM_DEBUG=false" in str(caught.value)


def test_production_starts_once_debug_is_turned_off_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    monkeypatch.setenv("TRIVIUM_DEBUG", "false")
    settings = Settings()
    assert (settings.production, settings.debug) == (True, False)


def test_development_keeps_debug_from_dotenv() -> None:
    assert Settings().debug is True


def test_settings_command_reports_debug_in_production_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    result = CliRunner().invoke(main, ["settings"])
    assert result.exit_code == 1
    assert "settings-production-debug" in result.output
    assert "Traceback" not in result.output
