"""Reset links never come from an unchecked `Host` header (host header poisoning)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from tests.auth.authapp import add_user
from tests.auth.authapp import make_app
from tests.auth.test_pages import client_for
from tests.auth.test_pages import make_pages_app
from tests.auth.test_pages import submit

from trivium import App
from trivium.auth import Auth
from trivium.auth import MemoryMailer
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.middleware import TrustedHostMiddleware
from trivium.testing import TestClient

SECRET = "s" * 40


def _link(mailer: MemoryMailer) -> str:
    [message] = mailer.outbox
    match = re.search(r"https?://\S+", message.get_content())
    assert match is not None, message.get_content()
    return match.group(0)


def _ask_reset(app: App, host: str) -> None:
    with client_for(app) as client:
        client.headers["host"] = host
        asked = submit(client, "/accounts/password/reset", {"email": "ada@example.com"})
        assert asked.status_code == 303


def test_pages_send_no_link_built_from_an_unchecked_host(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    app = make_pages_app(db, mail=mailer, site_url=None)
    with caplog.at_level(logging.ERROR, logger="trivium.auth"):
        _ask_reset(app, "evil.example")
    assert mailer.outbox == []
    assert "site_url" in caplog.text


def test_pages_use_the_request_host_once_trusted_host_middleware_checked_it(
    db: Database,
) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    app = make_pages_app(db, mail=mailer, site_url=None)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["testserver", "app.example"])
    _ask_reset(app, "app.example")
    assert _link(mailer).startswith("http://app.example/accounts/password/reset/confirm?token=")
    with client_for(app) as client:
        refused = client.get("/accounts/password/reset", headers={"host": "evil.example"})
    assert refused.status_code == 400


def test_the_site_url_wins_over_any_host(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    app = make_pages_app(db, mail=mailer, site_url="https://www.example.com/")
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])
    _ask_reset(app, "evil.example")
    assert _link(mailer).startswith("https://www.example.com/accounts/password/reset/confirm?")


def test_json_reset_joins_a_relative_reset_url_to_the_site_url(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    app, _ = make_app(
        db, mail=mailer, reset_url="/reset?token={token}", site_url="https://example.com"
    )
    with TestClient(app) as client:
        client.post(
            "/auth/password/reset",
            json={"email": "ada@example.com"},
            headers={"host": "evil.example"},
        )
    assert _link(mailer).startswith("https://example.com/reset?token=")


def test_json_reset_sends_no_relative_link_from_an_unchecked_host(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    app, _ = make_app(db, mail=mailer, reset_url="/reset?token={token}", site_url=None)
    with TestClient(app) as client:
        answer = client.post(
            "/auth/password/reset",
            json={"email": "ada@example.com"},
            headers={"host": "evil.example"},
        )
    assert answer.status_code == 202
    assert mailer.outbox == []


MEMORY = "sqlite+aiosqlite:///:memory:"  # start-up checks need no tables


def _production_app(**options: Any) -> App:
    app = App()
    Auth(Database(MEMORY), secret_key=SECRET, **options).init_app(app)
    return app


def test_production_mode_refuses_to_start_without_a_site_url_or_trusted_hosts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Production refuses the suite\'s cheap hasher (auth-weak-hasher, tested in test_passwords).
    monkeypatch.delenv("TRIVIUM_PASSWORD_HASHER", raising=False)
    monkeypatch.setenv("TRIVIUM_ENV", "production")
    app = _production_app()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])  # checks nothing
    assert app.production
    with pytest.raises(ConfigurationError, match="site_url") as caught:
        app.build()
    assert caught.value.code == "auth-site-url-missing"


@pytest.mark.parametrize("fix", ["site_url", "trusted_hosts", "not_production"])
def test_production_mode_starts_with_a_site_url_or_trusted_hosts(
    monkeypatch: pytest.MonkeyPatch, fix: str
) -> None:
    # Production refuses the suite\'s cheap hasher (auth-weak-hasher, tested in test_passwords).
    monkeypatch.delenv("TRIVIUM_PASSWORD_HASHER", raising=False)
    monkeypatch.setenv("TRIVIUM_ENV", "development" if fix == "not_production" else "production")
    if fix == "site_url":
        app = _production_app(site_url="https://example.com")
    else:
        app = _production_app()
    if fix == "trusted_hosts":
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
    app.build()


@pytest.mark.parametrize(
    "url", ["example.com", "ftp://example.com", "https://u:p@example.com", "https://x.com/?a=1"]
)
def test_a_site_url_that_is_not_an_absolute_http_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="site_url") as caught:
        Auth(Database(MEMORY), secret_key=SECRET, site_url=url)
    assert caught.value.code == "auth-site-url"
