"""`trivium createsuperuser` / `changepassword` on a database without the users' table.

"Run `trivium db migrate`" is the fix only when migrating creates the table: the app
installs `Auth`, or includes trivium.auth's migrations. An app without trivium.auth
(`trivium new --no-auth`) is told to install it instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from trivium.cli import main

pytestmark = pytest.mark.drives_no_app

APP = """
from pathlib import Path

from trivium import App
from trivium.auth import Auth
from trivium.db import Database

db = Database({url!r} or "sqlite+aiosqlite:///" + str(Path(__file__).parent / "site.db"))
app = App()
db.init_app(app)
if {auth}:
    Auth(db, secret_key="users-tests-" + "k" * 40).init_app(app, prefix=None)
if {include}:
    db.include_migrations("trivium.auth")
"""


@pytest.fixture
def write_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("TRIVIUM_APP", "TRIVIUM_SUPERUSER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)

    def write(*, auth: bool = False, include: bool = False, url: str = "") -> str:
        module = f"users_app_{uuid.uuid4().hex[:8]}"
        text = APP.format(auth=auth, include=include, url=url)
        (tmp_path / f"{module}.py").write_text(text)
        return f"{module}:app"

    return write


@pytest.mark.parametrize(
    "command",
    [["createsuperuser", "--email", "ada@example.com", "--no-input"], ["changepassword", "ada"]],
    ids=["createsuperuser", "changepassword"],
)
def test_an_app_without_trivium_auth_is_told_to_install_it(
    write_app: Callable[..., str], command: list[str]
) -> None:
    target = write_app()
    result = CliRunner().invoke(main, [*command, "--app", target])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {target} does not install trivium.auth, so no migration creates its "
        "auth_user table: add it to the app (app.install(Auth(db, secret_key=...)), see "
        "docs/auth.md), then run `trivium db migrate`\n"
    )


@pytest.mark.parametrize(
    "options", [{"auth": True}, {"include": True}], ids=["auth-plugin", "auth-migrations"]
)
def test_an_app_whose_migrations_create_the_table_is_told_to_migrate(
    write_app: Callable[..., str],
    options: dict[str, bool],
) -> None:
    target = write_app(**options)
    result = CliRunner().invoke(
        main, ["createsuperuser", "--email", "ada@example.com", "--no-input", "--app", target]
    )
    assert result.exit_code == 1
    assert "no auth_user table yet: run `trivium db migrate`" in result.output
    assert "does not install trivium.auth" not in result.output


@pytest.mark.parametrize(
    "command",
    [["createsuperuser", "--email", "ada@example.com", "--no-input"], ["changepassword", "ada"]],
    ids=["createsuperuser", "changepassword"],
)
def test_an_unreachable_database_is_one_line(
    write_app: Callable[..., str], command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIVIUM_SUPERUSER_PASSWORD", "a-long-enough-password-42")
    # Port 1 on the loopback: nothing listens there, the connection is refused at once.
    target = write_app(auth=True, url="postgresql://postgres@127.0.0.1:1/site")
    result = CliRunner().invoke(main, [*command, "--app", target])
    assert result.exit_code == 1
    assert result.output == (
        "Error: [db-unreachable] no database server answers at 127.0.0.1:1 (for database "
        "'site'); start it, or fix the host and port in the URL (see "
        "docs/errors.md#configuration-errors)\n"
    )
