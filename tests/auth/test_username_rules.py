"""User names: no invisible or control characters, no white space around, no one else's email."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import make_app
from tests.auth.test_pages import client_for
from tests.auth.test_pages import make_pages_app
from tests.auth.test_pages import submit

from trivium.cli import main
from trivium.db import Database
from trivium.testing import TestClient

NEW = "a brand new passphrase 42"
REFUSED = [
    ("a\u0001b", "U+0001"),  # a control character (Cc)
    ("a\u202eb", "U+202E"),  # a right-to-left override (Cf)
    ("a\u200bb", "U+200B"),  # a zero-width space (Cf)
    ("a\u2028b", "U+2028"),  # a line separator (Zl)
    ("a\u2029b", "U+2029"),  # a paragraph separator (Zp)
    ("ada\n", "U+000A"),
    (" ada", "start or end with white space"),
    ("ada\u3000", "start or end with white space"),
]


@pytest.mark.parametrize(("username", "message"), REFUSED)
def test_signup_refuses_a_user_name_with_control_format_or_surrounding_space(
    db: Database, username: str, message: str
) -> None:
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        body = {"email": "new@example.com", "username": username, "password": NEW}
        response = client.post("/auth/signup", json=body)
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "username"]
        assert message in error["msg"]
        assert (
            client.post(
                "/auth/login", json={"identifier": "new@example.com", "password": NEW}
            ).status_code
            == 401
        )


def test_me_update_refuses_a_bidi_override_in_the_user_name(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        answer = client.patch("/auth/me", json={"username": "a\u202eb"}, headers=csrf(client))
        assert answer.status_code == 422
        assert "U+202E" in answer.json()["detail"][0]["msg"]
        assert client.get("/auth/me").json()["username"] == "ada"


def test_signup_still_takes_a_plain_unicode_user_name(db: Database) -> None:
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        body = {"email": "new@example.com", "username": "Zoë Ångström", "password": NEW}
        response = client.post("/auth/signup", json=body)
        assert response.status_code == 201, response.text
        assert response.json()["username"] == "zoë ångström"


def test_signup_refuses_a_user_name_that_is_another_users_email(db: Database) -> None:
    ada = add_user(db, username="ada", email="ada@example.com")
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        body = {"email": "eve@example.com", "username": "Ada@Example.com", "password": NEW}
        response = client.post("/auth/signup", json=body)
        assert response.status_code == 409, response.text
        assert response.json() == {"detail": "A user with that email or user name already exists"}
        # Logging in with that identifier still reaches Ada, and only her.
        client.cookies.clear()
        answer = client.post(
            "/auth/login", json={"identifier": "ada@example.com", "password": PASSWORD}
        )
        assert answer.json()["id"] == ada


def test_signup_refuses_an_email_that_is_another_users_user_name(db: Database) -> None:
    add_user(db, username="bob@example.com")
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        body = {"email": "bob@example.com", "password": NEW}
        assert client.post("/auth/signup", json=body).status_code == 409


def test_me_update_refuses_another_users_email_but_takes_ones_own(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    add_user(db, username="bob", email="bob@example.com")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "bob")
        taken = client.patch("/auth/me", json={"username": "ada@example.com"}, headers=csrf(client))
        assert taken.status_code == 409
        own = client.patch("/auth/me", json={"username": "bob@example.com"}, headers=csrf(client))
        assert own.status_code == 200
        assert own.json()["username"] == "bob@example.com"


_APP = """
from trivium import App
from trivium.auth import Auth
from trivium.cli import main
from trivium.db import Database

db = Database({url!r}, name="auth")
app = App()
Auth(db, secret_key="username-tests-" + "k" * 40).init_app(app, prefix=None)
"""


@pytest.mark.parametrize(("username", "message"), REFUSED[:2])
def test_createsuperuser_refuses_a_control_or_bidi_user_name(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, username: str, message: str
) -> None:
    name = f"f6app_{uuid.uuid4().hex[:8]}"
    url = db.url.render_as_string(hide_password=False)
    (tmp_path / f"{name}.py").write_text(_APP.format(url=url))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    args = ["createsuperuser", "--app", f"{name}:app", "--username", username, "--no-input"]
    result = CliRunner().invoke(main, args, env={"TRIVIUM_SUPERUSER_PASSWORD": NEW})
    assert result.exit_code == 2, result.output
    assert "--username" in result.output
    assert message in result.output


def test_signup_page_refuses_a_bidi_override_or_another_users_email(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    form = {"email": "eve@example.com", "new_password1": NEW, "new_password2": NEW}
    with client_for(make_pages_app(db, signup=True)) as client:
        bidi = submit(client, "/accounts/signup", {**form, "username": "a\u202eb"})
        taken = submit(client, "/accounts/signup", {**form, "username": "ada@example.com"})
        assert client.get("/whoami").json()["id"] is None
    assert bidi.status_code == 422
    assert "U+202E" in bidi.text
    assert taken.status_code == 422
    assert "already exists" in taken.text
