"""`trivium settings` hides a URL's whole password, even one that holds `@`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main
from trivium.conf import REDACTED
from trivium.conf import redact

pytestmark = pytest.mark.drives_no_app


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("ENV", "DEBUG", "SECRET_KEY", "SECRETS_DIR", "APP", "SETTINGS"):
        monkeypatch.delenv(f"TRIVIUM_{name}", raising=False)
    return tmp_path


def test_settings_hide_the_tail_of_a_password_holding_an_at_sign(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIVIUM_REDIS_URL", "redis://:hunter2@TOPSECRET@localhost:6379/13")
    monkeypatch.setenv("TRIVIUM_MAIL_URL", "smtp://me:pass@TOPSECRET@smtp.example.com:587")
    result = CliRunner().invoke(main, ["settings", "trivium.conf:Settings"])
    assert result.exit_code == 0, result.output
    assert "TOPSECRET" not in result.output
    assert f"redis://:{REDACTED}@localhost:6379/13" in result.output
    assert f"smtp://me:{REDACTED}@smtp.example.com:587" in result.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:pw@db/app?next=a@b", f"postgresql://app:{REDACTED}@db/app?next=a@b"),
        ("redis://:pa/ss@host/0", f"redis://:{REDACTED}@host/0"),
        ("postgresql://app@db/app", "postgresql://app@db/app"),
    ],
)
def test_redact_keeps_the_host_and_what_follows_it(url: str, shown: str) -> None:
    assert redact(url) == shown
