"""`trivium.conf.Settings`: sources and their priority, per-environment files, checks, origins."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from trivium import App
from trivium import Depends
from trivium import Request
from trivium.auth import Auth
from trivium.auth import ConsoleMailer
from trivium.auth import SMTPMailer
from trivium.cli import main
from trivium.conf import DEV_SECRET_KEY
from trivium.conf import REDACTED
from trivium.conf import Settings
from trivium.conf import get_settings
from trivium.conf import origins
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.stores import RedisStore
from trivium.testing import TestClient

KEY = "k" * 40


class ProjectSettings(Settings):
    page_size: int = 20
    api_password: str = "hunter2"


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty project folder with no TRIVIUM_* variable of the caller's shell."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "ENV",
        "DEBUG",
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "SECRETS_DIR",
        "APP",
        "SETTINGS",
    ):
        monkeypatch.delenv(f"TRIVIUM_{name}", raising=False)
    return tmp_path


def _sources(settings: Settings) -> dict[str, str]:
    return {row.name: row.source for row in origins(settings)}


def test_defaults_without_any_source() -> None:
    settings = ProjectSettings()
    assert settings.env == "development"
    assert settings.secret_key.get_secret_value() == DEV_SECRET_KEY
    assert set(_sources(settings).values()) == {"default"}


def test_env_beats_dotenv_which_beats_default(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".env").write_text("TRIVIUM_PAGE_SIZE=30\nTRIVIUM_DEBUG=true\n")
    monkeypatch.setenv("TRIVIUM_PAGE_SIZE", "40")
    settings = ProjectSettings()
    assert settings.page_size == 40
    assert settings.debug is True
    assert _sources(settings)["page_size"] == "env"
    assert _sources(settings)["debug"] == ".env file .env"


def test_constructor_arguments_win() -> None:
    settings = ProjectSettings(page_size=5)
    assert settings.page_size == 5
    assert _sources(settings)["page_size"] == "init"


def test_the_environment_file_overrides_dotenv(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".env").write_text("TRIVIUM_PAGE_SIZE=30\nTRIVIUM_DEBUG=true\n")
    (project / ".env.staging").write_text("TRIVIUM_PAGE_SIZE=50\n")
    monkeypatch.setenv("TRIVIUM_ENV", "staging")
    settings = ProjectSettings()
    assert (settings.env, settings.page_size, settings.debug) == ("staging", 50, True)
    assert _sources(settings)["page_size"] == ".env file .env.staging"


def test_the_environment_may_be_named_in_dotenv(project: Path) -> None:
    (project / ".env").write_text("TRIVIUM_ENV=staging\n")
    (project / ".env.staging").write_text("TRIVIUM_PAGE_SIZE=7\n")
    assert ProjectSettings().page_size == 7


def test_secrets_directory_is_read_below_dotenv(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = project / "secrets"
    secrets.mkdir()
    (secrets / "TRIVIUM_SECRET_KEY").write_text(KEY)
    (secrets / "TRIVIUM_PAGE_SIZE").write_text("9")
    (project / ".env").write_text("TRIVIUM_PAGE_SIZE=30\n")
    monkeypatch.setenv("TRIVIUM_SECRETS_DIR", str(secrets))
    settings = ProjectSettings()
    assert settings.secret_key.get_secret_value() == KEY
    assert settings.page_size == 30
    assert _sources(settings)["secret_key"] == f"secrets dir {Path('secrets')}"


def test_a_missing_secrets_directory_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIVIUM_SECRETS_DIR", "/nonexistent/secrets")
    with pytest.raises(ConfigurationError, match="settings-secrets-dir"):
        ProjectSettings()


@pytest.mark.parametrize("key", [None, "short"])
def test_production_refuses_a_default_or_short_secret_key(
    key: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    if key is not None:
        monkeypatch.setenv("TRIVIUM_SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match=r"\[settings-secret-key\].*TRIVIUM_SECRET_KEY"):
        ProjectSettings()


def test_production_accepts_a_long_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    monkeypatch.setenv("TRIVIUM_SECRET_KEY", KEY)
    assert ProjectSettings().production


def test_unknown_and_invalid_values_are_refused(project: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"settings-invalid.*page_sise"):
        ProjectSettings(page_sise=3)
    (project / ".env").write_text("TRIVIUM_PAGE_SISE=3\nPOSTGRES_PASSWORD=x\n")
    with pytest.raises(ConfigurationError, match=r"TRIVIUM_PAGE_SISE in .*\.env"):
        ProjectSettings()
    (project / ".env").write_text("TRIVIUM_PORT=9000\n")
    with pytest.raises(ConfigurationError, match=r"TRIVIUM_PORT in .*process environment only"):
        ProjectSettings()
    (project / ".env").write_text("TRIVIUM_PAGE_SIZE=many\n")
    with pytest.raises(ConfigurationError, match=r"settings-invalid.*page_size"):
        ProjectSettings()


class TaggedSettings(Settings):
    tags: list[str] = []


def test_a_list_setting_that_is_not_json_names_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_TAGS", "a,b")
    with pytest.raises(ConfigurationError, match="TRIVIUM_TAGS in the environment") as info:
        TaggedSettings()
    assert info.value.code == "settings-invalid"
    assert 'must be written as JSON, e.g. TRIVIUM_TAGS=\'["a", "b"]\'' in str(info.value)


def test_a_list_setting_that_is_not_json_in_dotenv_names_the_file(project: Path) -> None:
    (project / ".env").write_text("TRIVIUM_TAGS=a,b\n")
    with pytest.raises(ConfigurationError, match=r"TRIVIUM_TAGS in .*\.env is not valid JSON"):
        TaggedSettings()
    (project / ".env").write_text('TRIVIUM_TAGS=["a", "b"]\n')
    assert TaggedSettings().tags == ["a", "b"]


class SizedSettings(Settings):
    page_size: int = 10


def test_an_invalid_value_names_its_variable_and_where_it_was_set(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".env").write_text("TRIVIUM_PAGE_SIZE=abc\n")
    with pytest.raises(ConfigurationError, match=r"page_size \(TRIVIUM_PAGE_SIZE in .*\.env\)"):
        SizedSettings()
    monkeypatch.setenv("TRIVIUM_PAGE_SIZE", "zz")
    with pytest.raises(ConfigurationError, match=r"TRIVIUM_PAGE_SIZE in the environment\)"):
        SizedSettings()
    with pytest.raises(ConfigurationError) as caught:
        SizedSettings(page_size="x")  # given in code: no variable to name
    assert "page_size: Input should be a valid integer" in str(caught.value)


def test_settings_command_reports_a_setting_that_is_not_json(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "tagged.py").write_text(
        "from trivium.conf import Settings\n\nclass S(Settings):\n    tags: list[str] = []\n"
    )
    monkeypatch.setenv("TRIVIUM_TAGS", "a,b")
    result = CliRunner().invoke(main, ["settings", "tagged:S"])
    assert result.exit_code == 1
    assert "settings-invalid" in result.output
    assert "TRIVIUM_TAGS in the environment is not valid JSON" in result.output


def test_origins_redact_secrets_and_url_passwords() -> None:
    settings = ProjectSettings(
        secret_key=SecretStr(KEY), database_url="postgresql://app:s3cret@db/app"
    )
    shown = {row.name: row.value for row in origins(settings)}
    assert shown["secret_key"] == REDACTED
    assert shown["api_password"] == REDACTED
    assert shown["database_url"] == f"postgresql://app:{REDACTED}@db/app"
    assert KEY not in json.dumps(shown)


def test_origins_redact_secret_query_parameters_of_urls() -> None:
    url = "postgresql://app@db/app?sslmode=require&password=qs3cret&application_name=web"
    settings = ProjectSettings(database_url=url, redis_url="redis://cache/0?token=t0k3n")
    shown = {row.name: row.value for row in origins(settings)}
    assert shown["database_url"] == (
        f"postgresql://app@db/app?sslmode=require&password={REDACTED}&application_name=web"
    )
    assert shown["redis_url"] == f"redis://cache/0?token={REDACTED}"


def test_settings_command_redacts_a_password_given_as_a_query_parameter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_DATABASE_URL", "postgresql://app@db/app?password=qs3cret")
    result = CliRunner().invoke(main, ["settings"])
    assert result.exit_code == 0, result.output
    assert "qs3cret" not in result.output
    assert f"postgresql://app@db/app?password={REDACTED}" in result.output


def test_settings_command_prints_values_and_sources(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "proj.py").write_text(
        "from trivium.conf import Settings\n\nclass S(Settings):\n    page_size: int = 20\n"
    )
    (project / ".env").write_text(
        "TRIVIUM_DATABASE_URL=postgresql://app:s3cret@db/app\nTRIVIUM_SECRET_KEY=" + KEY + "\n"
    )
    monkeypatch.setenv("TRIVIUM_PAGE_SIZE", "11")
    result = CliRunner().invoke(main, ["settings", "proj:S", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["page_size"]["value"] == "11"
    assert rows["page_size"]["source"] == "env"
    assert rows["database_url"]["source"] == ".env file .env"
    assert "s3cret" not in result.output
    assert KEY not in result.output
    assert rows["env"]["source"] == "default"
    table = CliRunner().invoke(main, ["settings", "proj:S"])
    assert "page_size" in table.output
    assert ".env file .env" in table.output


def test_settings_command_reports_invalid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    result = CliRunner().invoke(main, ["settings"])
    assert result.exit_code == 1
    assert "settings-secret-key" in result.output


def test_installed_settings_are_injected_and_set_the_environment() -> None:
    settings = ProjectSettings(page_size=3, env="production", secret_key=SecretStr(KEY))
    app = App(plugins=[settings])

    @app.get("/size")
    async def size(s: Annotated[ProjectSettings, Depends(get_settings)]) -> int:
        return s.page_size

    assert app.production
    with TestClient(app) as client:
        assert client.get("/size").json() == 3


def test_get_settings_without_installed_settings_is_a_configuration_error() -> None:
    app = App()

    @app.get("/size")
    async def size(s: Annotated[Settings, Depends(get_settings)]) -> str:
        return s.env

    with (
        TestClient(app) as client,
        pytest.raises(ConfigurationError, match="settings-not-installed"),
    ):
        client.get("/size")


def test_database_takes_its_url_from_the_settings(project: Path) -> None:
    settings = ProjectSettings(database_url=f"sqlite:///{project / 'x.db'}")
    db = Database.from_settings(settings, name="main")
    assert db.url.drivername == "sqlite+aiosqlite"
    assert db.name == "main"


def test_auth_takes_its_secret_and_site_from_the_settings(project: Path) -> None:
    settings = ProjectSettings(
        secret_key=SecretStr(KEY), site_url="https://example.com", mail_from="hi@example.com"
    )
    auth = Auth.from_settings(Database(f"sqlite:///{project / 'x.db'}"), settings, signup=True)
    assert auth.secret_key == KEY
    assert auth.site_url == "https://example.com"
    assert auth.mail_from == "hi@example.com"
    assert auth.signup
    assert isinstance(auth.mail, ConsoleMailer)


def test_auth_sends_mail_through_the_smtp_server_the_settings_name(project: Path) -> None:
    settings = ProjectSettings(
        secret_key=SecretStr(KEY), mail_url="smtp://app:s3cret@mail.example.com:2525?starttls=1"
    )
    auth = Auth.from_settings(Database(f"sqlite:///{project / 'x.db'}"), settings)
    assert isinstance(auth.mail, SMTPMailer)
    assert (auth.mail.host, auth.mail.port, auth.mail.username) == ("mail.example.com", 2525, "app")
    shown = {row.name: row.value for row in origins(settings)}
    assert shown["mail_url"] == f"smtp://app:{REDACTED}@mail.example.com:2525?starttls=1"


def test_auth_keeps_sessions_in_redis_when_the_settings_name_it(project: Path) -> None:
    redis_url = os.environ.get("TRIVIUM_TEST_REDIS_URL", "")
    if not redis_url:
        pytest.skip("needs TRIVIUM_TEST_REDIS_URL")
    settings = ProjectSettings(
        secret_key=SecretStr(KEY), redis_url=redis_url, database_url=f"sqlite:///{project / 'x.db'}"
    )
    db = Database.from_settings(settings)
    auth = Auth.from_settings(db, settings)
    assert isinstance(auth.session_store, RedisStore)
    assert auth.throttle_store is auth.session_store
    app = App(plugins=[settings, db, auth])

    @app.post("/visit")
    async def visit(request: Request) -> int:
        request.session["n"] = request.session.get("n", 0) + 1
        return int(request.session["n"])

    with TestClient(app) as client:
        token = client.get("/auth/csrf").json()["csrf_token"]
        assert client.post("/visit", headers={"X-CSRF-Token": token}).json() == 1
        assert client.post("/visit", headers={"X-CSRF-Token": token}).json() == 2


def test_settings_command_shows_the_settings_installed_on_the_app(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "siteapp.py").write_text(
        "from trivium import App\nfrom trivium.conf import Settings\n\n"
        "def create_app():\n    return App(plugins=[Settings(mail_from='app@example.com')])\n"
    )
    monkeypatch.setenv("TRIVIUM_APP", "siteapp:create_app()")
    monkeypatch.delenv("TRIVIUM_SETTINGS", raising=False)
    result = CliRunner().invoke(main, ["settings", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["mail_from"] == {
        "name": "mail_from",
        "value": "app@example.com",
        "source": "init",
        "variable": "TRIVIUM_MAIL_FROM",
    }
