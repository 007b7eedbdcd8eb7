"""`trivium settings` hides secrets wherever they sit: nested models, lists, any URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel
from pydantic import SecretStr

from trivium.cli import main
from trivium.conf import REDACTED
from trivium.conf import Settings
from trivium.conf import origins
from trivium.conf import redact

pytestmark = pytest.mark.drives_no_app


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("ENV", "DEBUG", "SECRET_KEY", "SECRETS_DIR", "APP", "SETTINGS", "DATABASE_URL"):
        monkeypatch.delenv(f"TRIVIUM_{name}", raising=False)
    return tmp_path


class Creds(BaseModel):
    user: str = "app"
    password: str = "nestedpw"
    token: SecretStr = SecretStr("nestedtoken")
    enabled: bool = True


class Service(BaseModel):
    name: str = "billing"
    creds: Creds = Creds()


class Deep(Settings):
    creds: Creds = Creds()
    services: list[Service] = [Service()]
    replica_urls: list[str] = ["postgresql://app:listpw@replica/app", "postgresql://r@r2/app"]
    headers: dict[str, str] = {"X-Api-Key": "hdrkey", "Accept": "json"}
    credentials: str = "credvalue"
    note: str = "primary is postgresql://app:notepw@db/app, see runbook"


def _shown(settings: Settings) -> dict[str, str]:
    return {row.name: row.value for row in origins(settings)}


def test_a_password_holding_at_and_slash_is_hidden_up_to_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_DATABASE_URL", "postgresql://app:p@ss/word@db/app")
    result = CliRunner().invoke(main, ["settings", "trivium.conf:Settings"])
    assert result.exit_code == 0, result.output
    assert "word" not in result.output
    assert f"postgresql://app:{REDACTED}@db/app" in result.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:p@ss/word@db/app", f"postgresql://app:{REDACTED}@db/app"),
        ("redis://:pa?ss@host/0", f"redis://:{REDACTED}@host/0"),
        ("postgresql://app:pw@db/app?next=a@b", f"postgresql://app:{REDACTED}@db/app?next=a@b"),
        (
            "see https://u:pw@h/x and ftp://v:pw2@g/",
            f"see https://u:{REDACTED}@h/x and ftp://v:{REDACTED}@g/",
        ),
        ("https://example.com/@me", "https://example.com/@me"),
    ],
)
def test_redact_hides_userinfo_passwords_anywhere_in_text(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_a_secret_field_of_a_nested_model_is_hidden() -> None:
    shown = _shown(Deep())
    assert "nestedpw" not in shown["creds"]
    assert "nestedtoken" not in shown["creds"]
    assert json.loads(shown["creds"]) == {
        "user": "app",
        "password": REDACTED,
        "token": REDACTED,
        "enabled": True,
    }
    assert "nestedpw" not in shown["services"]
    assert json.loads(shown["services"])[0]["creds"]["password"] == REDACTED


def test_urls_inside_lists_and_text_lose_their_passwords() -> None:
    shown = _shown(Deep())
    assert json.loads(shown["replica_urls"]) == [
        f"postgresql://app:{REDACTED}@replica/app",
        "postgresql://r@r2/app",
    ]
    assert shown["note"] == f"primary is postgresql://app:{REDACTED}@db/app, see runbook"


def test_keys_named_like_a_secret_are_hidden_in_dicts() -> None:
    assert json.loads(_shown(Deep())["headers"]) == {"X-Api-Key": REDACTED, "Accept": "json"}


def test_a_field_named_credentials_is_secret() -> None:
    assert _shown(Deep())["credentials"] == REDACTED


def test_settings_command_shows_no_nested_or_listed_secret(project: Path) -> None:
    (project / "deep.py").write_text("from tests.conf.test_redact_nested import Deep as D\n")
    result = CliRunner().invoke(main, ["settings", "deep:D", "--json"])
    assert result.exit_code == 0, result.output
    for secret in ("nestedpw", "nestedtoken", "listpw", "hdrkey", "credvalue", "notepw"):
        assert secret not in result.output
