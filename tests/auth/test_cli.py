"""`trivium createsuperuser` and `trivium changepassword` against a real app module."""

from __future__ import annotations

import uuid
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from click.testing import Result

from trivium.auth import PasswordHasher
from trivium.auth import User
from trivium.auth import check_password
from trivium.auth import create_user
from trivium.auth import get_user_by_identifier
from trivium.cli import main
from trivium.db import Database

pytestmark = pytest.mark.drives_no_app

GOOD = "glacier-teapot-71-vortex"
APP_SOURCE = """
from trivium import App
from trivium.db import Database

db = Database({url!r})
app = App()
db.init_app(app)
"""
AUTH_APP_SOURCE = """
from trivium import App
from trivium.auth import Auth
from trivium.auth import MinimumLength
from trivium.db import Database

db = Database({url!r}, name="auth")
app = App()
Auth(
    db, secret_key="cli-tests-" + "k" * 40, password_validators=[MinimumLength(4)]
).init_app(app, prefix=None)
"""


def _app_module(tmp_path: Path, db: Database, source: str = APP_SOURCE) -> str:
    name = f"cliapp_{uuid.uuid4().hex[:8]}"
    url = db.url.render_as_string(hide_password=False)
    (tmp_path / f"{name}.py").write_text(source.format(url=url))
    return f"{name}:app"


@pytest.fixture(autouse=True)
def _in_app_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the app module's folder, as `trivium` is run from a project's root."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("TRIVIUM_APP", "TRIVIUM_SUPERUSER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def _invoke(
    tmp_path: Path, args: list[str], input: str | None = None, env: dict[str, str] | None = None
) -> Result:
    del tmp_path
    return CliRunner().invoke(main, args, input=input, env=env or {}, catch_exceptions=False)


def _user(db: Database, identifier: str) -> User | None:
    async def find() -> User | None:
        try:
            async with db.sessionmaker() as session:
                return await get_user_by_identifier(session, identifier)
        finally:
            await db.dispose()

    return anyio.run(find)


def _password_ok(user: User, raw: str) -> bool:
    return anyio.run(check_password, user, raw)


def _add_user(db: Database, username: str, password: str) -> None:
    async def add() -> None:
        try:
            async with db.sessionmaker() as session:
                await create_user(
                    session,
                    username=username,
                    email=f"{username}@example.com",
                    password=password,
                    hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
                )
                await session.commit()
        finally:
            await db.dispose()

    anyio.run(add)


def test_createsuperuser_asks_the_password_twice(db: Database, tmp_path: Path) -> None:
    app = _app_module(tmp_path, db)
    result = _invoke(
        tmp_path,
        ["createsuperuser", "--app", app, "--email", "Root@Example.com"],
        input=f"{GOOD}\n{GOOD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Superuser 'root@example.com' created." in result.output
    assert GOOD not in result.output
    user = _user(db, "root@example.com")
    assert user is not None
    assert (user.is_superuser, user.is_staff, user.is_active) == (True, True, True)
    assert _password_ok(user, GOOD)


def test_createsuperuser_asks_again_after_a_mismatch_or_a_weak_password(
    db: Database, tmp_path: Path
) -> None:
    app = _app_module(tmp_path, db)
    result = _invoke(
        tmp_path,
        ["createsuperuser", "--app", app, "--username", "root"],
        input=f"{GOOD}\nother\n123\n123\n{GOOD}\n{GOOD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert "This password is too short." in result.output
    assert "This password is entirely numeric." in result.output
    user = _user(db, "root")
    assert user is not None
    assert user.email is None


def test_createsuperuser_gives_up_after_three_refused_passwords(
    db: Database, tmp_path: Path
) -> None:
    app = _app_module(tmp_path, db)
    result = _invoke(
        tmp_path,
        ["createsuperuser", "--app", app, "--username", "root"],
        input="password\npassword\nroot1\nroot1\n1234\n1234\n",
    )
    assert result.exit_code == 1
    assert "This password is too common." in result.output
    assert "The password is too similar to the username." in result.output
    assert "no acceptable password after 3 attempts" in result.output
    assert _user(db, "root") is None


def test_createsuperuser_prompts_for_the_identifiers(db: Database, tmp_path: Path) -> None:
    app = _app_module(tmp_path, db)
    result = _invoke(
        tmp_path,
        ["createsuperuser"],
        input=f"ada@example.com\nada\n{GOOD}\n{GOOD}\n",
        env={"TRIVIUM_APP": app},
    )
    assert result.exit_code == 0, result.output
    assert "Email address: " in result.output
    user = _user(db, "ada")
    assert user is not None
    assert user.email == "ada@example.com"


def test_createsuperuser_without_input_reads_the_environment(db: Database, tmp_path: Path) -> None:
    app = _app_module(tmp_path, db)
    args = ["createsuperuser", "--app", app, "--no-input"]
    env = {"TRIVIUM_SUPERUSER_USERNAME": "ci"}
    missing = _invoke(tmp_path, args, env=env)
    assert missing.exit_code == 1
    assert "needs the password in $TRIVIUM_SUPERUSER_PASSWORD" in missing.output
    weak = _invoke(tmp_path, args, env={**env, "TRIVIUM_SUPERUSER_PASSWORD": "abc"})
    assert weak.exit_code == 1
    assert "This password is too short." in weak.output
    assert _user(db, "ci") is None
    done = _invoke(tmp_path, args, env={**env, "TRIVIUM_SUPERUSER_PASSWORD": GOOD})
    assert done.exit_code == 0, done.output
    user = _user(db, "ci")
    assert user is not None
    assert _password_ok(user, GOOD)
    again = _invoke(tmp_path, args, env={**env, "TRIVIUM_SUPERUSER_PASSWORD": GOOD})
    assert again.exit_code == 1
    assert "a user 'ci' already exists" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--no-input"], "give the superuser an --email or a --username"),
        (["--email", "not-an-email", "--no-input"], "'not-an-email' is not an e-mail address"),
        (["--username", "x" * 151, "--no-input"], "at most 150 characters"),
        # 100 ligatures are 200 characters once normalised (NFKC), as they are stored.
        (["--username", "\ufb00" * 100, "--no-input"], "at most 150 characters once normalised"),
    ],
)
def test_createsuperuser_refuses_bad_identifiers(
    db: Database, tmp_path: Path, args: list[str], message: str
) -> None:
    app = _app_module(tmp_path, db)
    result = _invoke(tmp_path, ["createsuperuser", "--app", app, *args])
    assert result.exit_code == 2
    assert message in result.output


def test_commands_need_an_app_with_a_database(db: Database, tmp_path: Path) -> None:
    no_app = _invoke(tmp_path, ["createsuperuser", "--username", "x"])
    assert no_app.exit_code == 2
    assert "give the app with --app module:app (or set TRIVIUM_APP)" in no_app.output
    bare = _app_module(tmp_path, db, "from trivium import App\napp = App()\n")
    result = _invoke(tmp_path, ["changepassword", "root", "--app", bare])
    assert result.exit_code == 1
    assert "has no database" in result.output


def test_changepassword_sets_a_new_password(db: Database, tmp_path: Path) -> None:
    _add_user(db, "ada", "old-password-here")
    app = _app_module(tmp_path, db)
    result = _invoke(
        tmp_path, ["changepassword", "ADA@example.com", "--app", app], input=f"{GOOD}\n{GOOD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Changing the password of 'ada'" in result.output
    assert "Password changed." in result.output
    user = _user(db, "ada")
    assert user is not None
    assert _password_ok(user, GOOD)
    assert not _password_ok(user, "old-password-here")


def test_changepassword_for_an_unknown_user_fails(db: Database, tmp_path: Path) -> None:
    app = _app_module(tmp_path, db)
    result = _invoke(tmp_path, ["changepassword", "ghost", "--app", app])
    assert result.exit_code == 1
    assert "no user has the username or e-mail 'ghost'" in result.output


def test_commands_use_the_auth_extension_database_and_rules(db: Database, tmp_path: Path) -> None:
    _add_user(db, "ada", "old-password-here")
    app = _app_module(tmp_path, db, AUTH_APP_SOURCE)
    result = _invoke(tmp_path, ["changepassword", "ada", "--app", app], input="1234\n1234\n")
    assert result.exit_code == 0, result.output
    user = _user(db, "ada")
    assert user is not None
    assert _password_ok(user, "1234")


def test_createsuperuser_on_a_database_without_tables_says_to_migrate(tmp_path: Path) -> None:
    empty = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    app = _app_module(tmp_path, empty, AUTH_APP_SOURCE)  # an app with trivium.auth
    result = CliRunner().invoke(
        main,
        ["createsuperuser", "--app", app, "--email", "a@example.com"],
        input=f"{GOOD}\n{GOOD}\n",
    )
    assert result.exit_code == 1
    assert "no auth_user table yet: run `trivium db migrate`" in result.output
    assert "Traceback" not in result.output
