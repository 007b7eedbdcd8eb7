"""`trivium check --deploy` finds weak keys in `Sessions` and `SessionMiddleware` too."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main
from trivium.conf import DEV_SECRET_KEY

pytestmark = pytest.mark.drives_no_app

APP = """
from trivium import App
from trivium.middleware import Middleware
from trivium.conf import Settings
from trivium.sessions import Sessions, SessionMiddleware

app = App({options})
"""

GOOD_KEY = "hT3k9-Qz0Lw8_PbX2nVr5sYc7mJd4aFg6eUi1oK"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(options: str) -> str:
        module = f"keys_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{module}.py").write_text(APP.format(options=options))
        return f"{module}:app"

    return write


def _secret_findings(target: str) -> list[str]:
    result = CliRunner().invoke(main, ["check", "--deploy", "--app", target])
    return [line for line in result.output.splitlines() if "deploy.secret-key" in line]


def test_sessions_signing_with_the_development_key_is_an_error(
    project: Callable[[str], str],
) -> None:
    target = project(f"plugins=[Sessions(secret_key={DEV_SECRET_KEY!r})]")
    (line,) = _secret_findings(target)
    assert line.startswith("ERROR deploy.secret-key: the secret key of Sessions is")


def test_session_middleware_with_a_repetitive_key_is_an_error(
    project: Callable[[str], str],
) -> None:
    key = "ab" * 20
    target = project(f"middleware=[Middleware(SessionMiddleware, secret_key={key!r})]")
    (line,) = _secret_findings(target)
    assert line.startswith("ERROR deploy.secret-key: the secret key of SessionMiddleware is")


def test_one_weak_key_held_by_several_plugins_is_one_finding(
    project: Callable[[str], str],
) -> None:
    key = repr(DEV_SECRET_KEY)
    target = project(f"plugins=[Settings(secret_key={key}), Sessions(secret_key={key})]")
    (line,) = _secret_findings(target)
    assert line.startswith("ERROR deploy.secret-key: the secret key of Settings, Sessions is")


def test_sessions_with_a_random_key_pass(project: Callable[[str], str]) -> None:
    target = project(f"plugins=[Sessions(secret_key={GOOD_KEY!r})]")
    assert _secret_findings(target) == []
