"""Nested variables in dotenv files, the casing of `TRIVIUM_ENV`, and `_env_file=None`."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict

from trivium.conf import DEV_SECRET_KEY
from trivium.conf import Settings
from trivium.conf import env_files
from trivium.errors import ConfigurationError

pytestmark = pytest.mark.drives_no_app

KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEF"


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("ENV", "DEBUG", "SECRET_KEY", "SECRETS_DIR", "APP", "SETTINGS", "DB__HOST"):
        monkeypatch.delenv(f"TRIVIUM_{name}", raising=False)
    return tmp_path


class DB(BaseModel):
    host: str = "localhost"
    port: int = 5432


class Nested(Settings):
    model_config = SettingsConfigDict(env_nested_delimiter="__")

    db: DB = DB()
    extras: dict[str, str] = {}


class Flat(Settings):
    db: DB = DB()


def test_a_nested_variable_in_dotenv_is_read(project: Path) -> None:
    (project / ".env").write_text("TRIVIUM_DB__HOST=envhost\ntrivium_db__port=6543\n")
    settings = Nested()
    assert settings.db == DB(host="envhost", port=6543)


def test_a_nested_variable_of_a_dict_field_in_dotenv_is_read(project: Path) -> None:
    (project / ".env").write_text("TRIVIUM_EXTRAS__COLOUR=blue\n")
    assert Nested().extras == {"colour": "blue"}


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("TRIVIUM_DBS__HOST=x", "TRIVIUM_DBS__HOST"),
        ("TRIVIUM_DB__HOTS=x", "TRIVIUM_DB__HOTS"),
        ("TRIVIUM_DB__=x", "TRIVIUM_DB__"),
    ],
)
def test_a_misspelt_nested_variable_in_dotenv_is_refused(
    project: Path, line: str, named: str
) -> None:
    (project / ".env").write_text(line + "\n")
    with pytest.raises(ConfigurationError, match=f"{named} in .*: not a field") as info:
        Nested()
    assert info.value.code == "settings-invalid"


def test_without_a_nested_delimiter_a_nested_name_is_refused(project: Path) -> None:
    (project / ".env").write_text("TRIVIUM_DB__HOST=envhost\n")
    with pytest.raises(ConfigurationError, match="TRIVIUM_DB__HOST in .*: not a field"):
        Flat()


@pytest.mark.parametrize("env", ["Production", "PRODUCTION", " production "])
def test_production_is_recognised_in_any_case(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", env)
    with pytest.raises(ConfigurationError, match="secret key") as info:
        Settings()
    assert info.value.code == "settings-secret-key"
    monkeypatch.setenv("TRIVIUM_SECRET_KEY", KEY)
    settings = Settings()
    assert settings.production
    assert settings.env == "production"
    monkeypatch.setenv("TRIVIUM_DEBUG", "true")
    with pytest.raises(ConfigurationError, match="debug") as info:
        Settings()
    assert info.value.code == "settings-production-debug"


def test_the_environment_file_is_named_in_lower_case(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIVIUM_ENV", "Staging")
    (project / ".env.staging").write_text("TRIVIUM_DEBUG=true\n")
    assert env_files()[-1] == project / ".env.staging"
    settings = Settings()
    assert settings.env == "staging"
    assert settings.debug


def test_an_env_given_in_code_is_normalised_too() -> None:
    settings = Settings(env="PRODUCTION", secret_key=KEY)
    assert settings.production
    with pytest.raises(ConfigurationError, match="secret key"):
        Settings(env="Production", secret_key=DEV_SECRET_KEY)


def test_env_file_none_reads_no_dotenv_file(project: Path) -> None:
    (project / ".env").write_text("TRIVIUM_DEBUG=true\nTRIVIUM_NOT_A_FIELD=1\n")
    settings = Settings(_env_file=None)
    assert not settings.debug
    assert settings.env_files == ()


def test_env_file_omitted_reads_the_default_dotenv_files(project: Path) -> None:
    (project / ".env").write_text("TRIVIUM_DEBUG=true\n")
    assert Settings().debug
    assert Settings(_env_file=project / ".env").debug


def test_an_invalid_nested_value_names_its_variable_and_file(project: Path) -> None:
    (project / ".env").write_text("TRIVIUM_DB__PORT=abc\n")
    with pytest.raises(ConfigurationError, match=r"db\.port \(TRIVIUM_DB__PORT in .*\.env\)"):
        Nested()


def test_an_invalid_nested_value_in_the_environment_names_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_DB__PORT", "abc")
    with pytest.raises(
        ConfigurationError, match=r"db\.port \(TRIVIUM_DB__PORT in the environment\)"
    ):
        Nested()
