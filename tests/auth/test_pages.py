"""The HTML auth pages: login, logout, password change and reset, sign-up, overrides."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import httpx
import jinja2
import pytest
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import make_app

from trivium import App
from trivium.auth import LoginThrottle
from trivium.auth import MemoryMailer
from trivium.auth import pages_router
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.templating import Templates
from trivium.testing import TestClient

NEW = "a brand new long passphrase"
BAD_LOGIN = "Please enter a correct email or user name and password."


def make_pages_app(
    db: Database, directory: Path | None = None, pages: dict[str, Any] | None = None, **options: Any
) -> App:
    """The shared auth app, with templates and the pages under /accounts."""
    app, auth = make_app(db, **options)
    templates = Templates(directory)
    templates.init_app(app)
    app.include_router(pages_router(auth, templates=templates, **(pages or {})))
    return app


def client_for(app: App) -> TestClient:
    return TestClient(app, follow_redirects=False)


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return match.group(1)


def submit(client: TestClient, url: str, data: dict[str, str], page: str | None = None) -> Any:
    """GET the form page (`page`, default `url`), then POST `data` with its CSRF token."""
    form = client.get(page or url.split("?")[0])
    assert form.status_code == 200, form.text
    return client.post(url, data={**data, "csrf_token": csrf_of(form)})


def log_in(client: TestClient, identifier: str, password: str = PASSWORD, url: str = "") -> Any:
    return submit(
        client,
        url or "/accounts/login",
        {"identifier": identifier, "password": password},
        "/accounts/login",
    )


def whoami(client: TestClient) -> Any:
    return client.get("/whoami").json()["id"]


# Login ---------------------------------------------------------------------------------


def test_login_page_shows_the_form_with_a_csrf_field(db: Database) -> None:
    with client_for(make_pages_app(db)) as client:
        page = client.get("/accounts/login")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert '<label for="id_identifier">Email or user name</label>' in page.text
    assert 'type="password" name="password"' in page.text
    assert csrf_of(page)
    assert 'href="/accounts/password/reset"' in page.text
    assert "/accounts/signup" not in page.text


def test_wrong_password_redisplays_a_generic_error_keeping_the_identifier(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    with client_for(make_pages_app(db)) as client:
        wrong = log_in(client, "ada@example.com", "not the password")
        unknown = log_in(client, "nobody@example.com", "not the password")
        assert whoami(client) is None
    for page, identifier in ((wrong, "ada@example.com"), (unknown, "nobody@example.com")):
        assert page.status_code == 422
        assert BAD_LOGIN in page.text
        assert f'value="{identifier}"' in page.text
        assert "not the password" not in page.text


def test_empty_login_form_is_422_with_field_errors(db: Database) -> None:
    with client_for(make_pages_app(db)) as client:
        page = submit(client, "/accounts/login", {"identifier": "", "password": ""})
    assert page.status_code == 422
    assert page.text.count("This field is required.") == 2
    assert 'aria-invalid="true"' in page.text


def test_inactive_user_gets_the_generic_error(db: Database) -> None:
    add_user(db, username="gone", email="gone@example.com", is_active=False)
    with client_for(make_pages_app(db)) as client:
        page = log_in(client, "gone")
    assert page.status_code == 422
    assert BAD_LOGIN in page.text


def test_login_redirects_303_to_a_local_next_in_a_new_session(db: Database) -> None:
    user_id = add_user(db, username="ada", email="ada@example.com")
    with client_for(make_pages_app(db)) as client:
        form = client.get("/accounts/login?next=/whoami?x=1")
        assert 'action="/accounts/login?next=/whoami%3Fx%3D1"' in form.text
        before = client.cookies["session"]
        done = client.post(
            "/accounts/login?next=/whoami?x=1",
            data={"identifier": "ada", "password": PASSWORD, "csrf_token": csrf_of(form)},
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/whoami?x=1"
        assert client.cookies["session"] != before
        assert whoami(client) == user_id


@pytest.mark.parametrize(
    "target",
    ["//evil.com", "https://evil.com/x", "/\\evil.com", "/\t/evil.com", "javascript:alert(1)"],
)
def test_login_ignores_a_next_that_leaves_the_site(db: Database, target: str) -> None:
    add_user(db, username="ada", email="ada@example.com")
    with client_for(make_pages_app(db, pages={"redirect_to": "/home"})) as client:
        page = client.get("/accounts/login", params={"next": target})
        assert "evil" not in page.text
        assert 'action="/accounts/login"' in page.text
        done = client.post(
            "/accounts/login",
            params={"next": target},
            data={"identifier": "ada", "password": PASSWORD, "csrf_token": csrf_of(page)},
        )
    assert done.status_code == 303
    assert done.headers["location"] == "/home"


def test_login_throttle_answers_a_429_page(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    app = make_pages_app(db, login_throttle=LoginThrottle(per_identifier=(2, 60)))
    with client_for(app) as client:
        assert log_in(client, "ada", "wrong one").status_code == 422
        assert log_in(client, "ada", "wrong two").status_code == 422
        page = log_in(client, "ada")
        assert whoami(client) is None
    assert page.status_code == 429
    assert int(page.headers["retry-after"]) > 0
    assert "Too many login attempts" in page.text
    assert 'value="ada"' in page.text


def test_a_json_body_gets_a_json_error(db: Database) -> None:
    with client_for(make_pages_app(db)) as client:
        response = client.post("/accounts/login", json={"identifier": "a", "password": "b"})
    assert response.status_code == 415
    assert "detail" in response.json()


# Logout --------------------------------------------------------------------------------


def test_logout_page_asks_to_confirm_with_a_csrf_form(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    with client_for(make_pages_app(db)) as client:
        assert "You are not logged in" in client.get("/accounts/logout").text
        assert log_in(client, "ada").status_code == 303
        page = client.get("/accounts/logout")
        assert page.status_code == 200
        assert '<form method="post" action="/accounts/logout"' in page.text
        assert csrf_of(page)
        assert whoami(client) is not None


def test_logout_post_needs_the_csrf_token(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    with client_for(make_pages_app(db)) as client:
        log_in(client, "ada")
        refused = client.post("/accounts/logout")
        assert refused.status_code == 403
        assert refused.json() == {"detail": "CSRF token missing"}
        assert whoami(client) is not None
        done = submit(client, "/accounts/logout", {})
        assert done.status_code == 303
        assert done.headers["location"] == "/accounts/login"
        assert whoami(client) is None
        assert "You are logged out." in client.get("/accounts/login").text


# Password change -----------------------------------------------------------------------


def test_password_change_sends_anonymous_visitors_to_log_in(db: Database) -> None:
    with client_for(make_pages_app(db)) as client:
        page = client.get("/accounts/password/change")
    assert page.status_code == 303
    location = urlsplit(page.headers["location"])
    assert location.path == "/accounts/login"
    assert parse_qs(location.query) == {"next": ["/accounts/password/change"]}


def test_password_change_refuses_a_wrong_old_password(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    with client_for(make_pages_app(db)) as client:
        log_in(client, "ada")
        page = submit(
            client,
            "/accounts/password/change",
            {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW},
        )
    assert page.status_code == 422
    assert "Your current password was entered incorrectly." in page.text
    assert NEW not in page.text


def test_password_change_shows_the_validators_messages(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    with client_for(make_pages_app(db)) as client:
        log_in(client, "ada")
        page = client.get("/accounts/password/change")
        assert "Your password must contain at least 10 characters." in page.text
        short = submit(
            client,
            "/accounts/password/change",
            {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
        )
        mismatch = submit(
            client,
            "/accounts/password/change",
            {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW + "?"},
        )
    assert short.status_code == 422
    assert "This password is too short." in short.text
    assert "This password is entirely numeric." in short.text
    assert mismatch.status_code == 422
    assert "The two password fields didn&#39;t match." in mismatch.text


def test_password_change_keeps_this_session_and_logs_out_the_others(db: Database) -> None:
    user_id = add_user(db, username="ada", email="ada@example.com")
    with client_for(make_pages_app(db)) as client:
        log_in(client, "ada")
        other = client.cookies["session"]
        client.cookies.clear()
        log_in(client, "ada")
        done = submit(
            client,
            "/accounts/password/change",
            {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/"
        assert whoami(client) == user_id
        client.cookies.clear()
        client.cookies.set("session", other)
        assert whoami(client) is None
        client.cookies.clear()
        assert log_in(client, "ada").status_code == 422
        assert log_in(client, "ada", NEW).status_code == 303


# Password reset ------------------------------------------------------------------------


def _link_from(mailer: MemoryMailer) -> str:
    [message] = mailer.outbox
    match = re.search(r"(\S+/accounts/password/reset/confirm\?token=\S+)", message.get_content())
    assert match is not None, message.get_content()
    return match.group(1)


def _ask_reset(client: TestClient, email: str) -> Any:
    return submit(client, "/accounts/password/reset", {"email": email})


def test_password_reset_mails_a_link_to_the_confirm_page(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    with client_for(make_pages_app(db, mail=mailer, mail_from="site@example.com")) as client:
        asked = _ask_reset(client, "ADA@example.com")
        assert asked.status_code == 303
        assert asked.headers["location"] == "/accounts/password/reset/sent"
        sent = client.get("/accounts/password/reset/sent")
        assert "Check your email" in sent.text
    [message] = mailer.outbox
    assert (message["To"], message["From"]) == ("ada@example.com", "site@example.com")
    assert message["Subject"] == "Reset your password"
    assert _link_from(mailer).startswith("http://testserver/accounts/password/reset/confirm?")


def test_password_reset_looks_the_same_for_unknown_addresses(db: Database) -> None:
    add_user(db, username="ghost", email="ghost@example.com", is_active=False)
    mailer = MemoryMailer()
    with client_for(make_pages_app(db, mail=mailer)) as client:
        for email in ("nobody@example.com", "ghost@example.com"):
            asked = _ask_reset(client, email)
            assert asked.status_code == 303
            assert asked.headers["location"] == "/accounts/password/reset/sent"
        empty = _ask_reset(client, "")
    assert mailer.outbox == []
    assert empty.status_code == 422
    assert "This field is required." in empty.text


def test_reset_link_sets_a_new_password_once(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    with client_for(make_pages_app(db, mail=mailer)) as client:
        _ask_reset(client, "ada@example.com")
        link = _link_from(mailer)
        opened = client.get(link)
        assert opened.status_code == 303
        assert opened.headers["location"] == "/accounts/password/reset/confirm"
        confirm = "/accounts/password/reset/confirm"
        weak = submit(client, confirm, {"new_password1": "ada", "new_password2": "ada"})
        assert weak.status_code == 422
        assert "This password is too short." in weak.text
        done = submit(client, confirm, {"new_password1": NEW, "new_password2": NEW})
        assert done.status_code == 303
        assert done.headers["location"] == "/accounts/login"
        assert "Your password was set." in client.get("/accounts/login").text
        assert log_in(client, "ada", NEW).status_code == 303
        client.cookies.clear()
        assert client.get(link).status_code == 303
        used = client.get(confirm)
    assert used.status_code == 400
    assert "invalid, has expired or was already used" in used.text


def test_confirm_page_without_a_valid_token_says_the_link_is_invalid(db: Database) -> None:
    with client_for(make_pages_app(db)) as client:
        assert client.get("/accounts/password/reset/confirm").status_code == 400
        client.get("/accounts/password/reset/confirm?token=forged")
        page = client.get("/accounts/password/reset/confirm")
        assert page.status_code == 400
        assert 'href="/accounts/password/reset"' in page.text
        posted = client.post(
            "/accounts/password/reset/confirm",
            data={
                "new_password1": NEW,
                "new_password2": NEW,
                "csrf_token": csrf_of(client.get("/accounts/login")),
            },
        )
    assert posted.status_code == 400


def test_reset_link_uses_the_configured_base_url(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    app = make_pages_app(db, mail=mailer, pages={"base_url": "https://example.com/"})
    with client_for(app) as client:
        _ask_reset(client, "ada@example.com")
    assert _link_from(mailer).startswith("https://example.com/accounts/password/reset/confirm?")


# Sign-up -------------------------------------------------------------------------------


def test_signup_is_404_unless_enabled(db: Database) -> None:
    with client_for(make_pages_app(db)) as client:
        assert client.get("/accounts/signup").status_code == 404
        assert client.post("/accounts/signup", data={}).status_code == 404


def test_signup_creates_an_account_and_logs_it_in(db: Database) -> None:
    with client_for(make_pages_app(db, signup=True)) as client:
        assert 'href="/accounts/signup"' in client.get("/accounts/login").text
        fields = {"email": "ada@example.com", "username": "ada"}
        done = submit(
            client, "/accounts/signup", {**fields, "new_password1": NEW, "new_password2": NEW}
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/"
        assert whoami(client) is not None
        client.cookies.clear()
        taken = submit(
            client, "/accounts/signup", {**fields, "new_password1": NEW, "new_password2": NEW}
        )
    assert taken.status_code == 422
    assert "An account with this email or user name already exists." in taken.text
    assert 'value="ada@example.com"' in taken.text


def test_signup_redisplays_bad_input(db: Database) -> None:
    with client_for(make_pages_app(db, signup=True)) as client:
        bad_email = submit(
            client,
            "/accounts/signup",
            {"email": "not an email", "new_password1": NEW, "new_password2": NEW},
        )
        weak = submit(
            client,
            "/accounts/signup",
            {
                "email": "ada@example.com",
                "new_password1": "ada@example",
                "new_password2": "ada@example",
            },
        )
        assert whoami(client) is None
    assert bad_email.status_code == 422
    assert "Enter a valid email address." in bad_email.text
    assert weak.status_code == 422
    assert "The password is too similar to the email." in weak.text
    assert "ada@example<" not in weak.text


# Templates -----------------------------------------------------------------------------


def test_an_app_template_overrides_the_login_page(db: Database, tmp_path: Path) -> None:
    (tmp_path / "auth").mkdir()
    (tmp_path / "auth" / "login.html").write_text(
        '<h1 id="mine">Sign in</h1>{{ form.render(action=auth_urls.login) }}'
    )
    with client_for(make_pages_app(db, tmp_path)) as client:
        page = client.get("/accounts/login")
        reset = client.get("/accounts/password/reset")
    assert '<h1 id="mine">Sign in</h1>' in page.text
    assert csrf_of(page)
    assert "<!doctype html>" in reset.text


def test_an_app_base_template_puts_the_pages_in_its_layout(db: Database, tmp_path: Path) -> None:
    (tmp_path / "auth").mkdir()
    (tmp_path / "layout.html").write_text(
        "<title>{% block title %}{% endblock %} | Shop</title>"
        '<nav id="shop-nav"><form method="post" action="{{ url_for("auth_logout") }}">'
        "{{ csrf_input() }}<button>Log out</button></form></nav>"
        "{% block content %}{% endblock %}"
    )
    (tmp_path / "auth" / "base.html").write_text('{% extends "layout.html" %}')
    with client_for(make_pages_app(db, tmp_path)) as client:
        page = client.get("/accounts/password/reset")
    assert "<title>Reset your password | Shop</title>" in page.text
    assert '<nav id="shop-nav"><form method="post" action="/accounts/logout">' in page.text
    assert 'name="email"' in page.text


def test_templates_that_cannot_find_the_pages_are_refused(db: Database) -> None:
    _, auth = make_app(db)
    templates = Templates(None)
    templates.environment.loader = jinja2.DictLoader({})
    with pytest.raises(ConfigurationError, match="auth/login.html") as caught:
        pages_router(auth, templates=templates)
    assert caught.value.code == "auth-pages-templates"
