"""The JSON views: password reset by email, signup, and their failure cases."""

from __future__ import annotations

import re
import time

from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import make_app
from tests.auth.authapp import use_session

from trivium.auth import JWTConfig
from trivium.auth import MemoryMailer
from trivium.db import Database
from trivium.testing import TestClient

NEW = "a brand new long passphrase"


def _token_from(mailer: MemoryMailer) -> str:
    [message] = mailer.outbox
    body = message.get_content()
    match = re.search(r"token=(\S+)", body)
    assert match is not None, body
    return match.group(1)


def test_password_reset_mails_a_single_use_link(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    app, _ = make_app(db, mail=mailer, reset_url="https://app.test/reset?token={token}")
    with TestClient(app) as client:
        asked = client.post("/auth/password/reset", json={"email": "ADA@example.com"})
        assert asked.status_code == 202
        assert mailer.outbox[0]["To"] == "ada@example.com"
        token = _token_from(mailer)
        weak = client.post(
            "/auth/password/reset/confirm", json={"token": token, "new_password": "1"}
        )
        assert weak.status_code == 422
        done = client.post(
            "/auth/password/reset/confirm", json={"token": token, "new_password": NEW}
        )
        assert done.status_code == 200
        again = client.post(
            "/auth/password/reset/confirm", json={"token": token, "new_password": NEW + "!"}
        )
        assert again.status_code == 403
        assert login(client, "ada").status_code == 401
        assert login(client, "ada", NEW).status_code == 200


def test_password_reset_answers_202_for_unknown_addresses_without_mail(db: Database) -> None:
    add_user(db, username="ghost", email="ghost@example.com", is_active=False)
    mailer = MemoryMailer()
    app, _ = make_app(db, mail=mailer)
    with TestClient(app) as client:
        for email in ("nobody@example.com", "ghost@example.com", "not-an-email"):
            assert client.post("/auth/password/reset", json={"email": email}).status_code == 202
    assert mailer.outbox == []


def test_forged_and_expired_reset_tokens_are_refused(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    mailer = MemoryMailer()
    app, _ = make_app(db, mail=mailer, reset_url="x?token={token}", reset_max_age=1)
    with TestClient(app) as client:
        client.post("/auth/password/reset", json={"email": "ada@example.com"})
        expired = _token_from(mailer)
        time.sleep(2)  # timestamps are whole seconds: 2 s make the token older than 1 s
        for token in (expired, "forged", expired[:-3] + "abc"):
            response = client.post(
                "/auth/password/reset/confirm", json={"token": token, "new_password": NEW}
            )
            assert response.status_code == 403
            assert response.json() == {"detail": "The reset link is invalid or has expired"}


def test_signup_creates_a_plain_user_and_logs_in(db: Database) -> None:
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        response = client.post(
            "/auth/signup", json={"email": "new@example.com", "username": "new", "password": NEW}
        )
        assert response.status_code == 201
        assert response.json()["is_staff"] is False
        assert client.get("/auth/me").json()["username"] == "new"
        use_session(client, None)
        duplicate = client.post("/auth/signup", json={"email": "new@example.com", "password": NEW})
        assert duplicate.status_code == 409


def test_signup_refuses_privilege_flags_and_weak_passwords(db: Database) -> None:
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        escalate = client.post(
            "/auth/signup",
            json={
                "email": "eve@example.com",
                "password": NEW,
                "is_superuser": True,
                "is_staff": True,
            },
        )
        weak = client.post(
            "/auth/signup", json={"email": "eve@example.com", "password": "password"}
        )
        assert escalate.status_code == 422
        assert weak.status_code == 422
        assert login(client, "eve@example.com", NEW).status_code == 401


def test_signup_is_off_by_default(db: Database) -> None:
    app, _ = make_app(db)
    with TestClient(app) as client:
        response = client.post("/auth/signup", json={"email": "a@example.com", "password": NEW})
    assert response.status_code in (404, 405)


def test_logged_in_user_sees_and_revokes_only_their_tokens(db: Database) -> None:
    add_user(db, username="ada")
    add_user(db, username="eve")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        created = client.post("/auth/tokens", json={"name": "ci"}, headers=csrf(client)).json()
        use_session(client, None)
        login(client, "eve", PASSWORD)
        assert client.get("/auth/tokens").json() == []
        stolen = client.delete(f"/auth/tokens/{created['id']}", headers=csrf(client))
        assert stolen.status_code == 404


def test_an_html_form_can_post_to_the_login_view_with_its_csrf_field(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    app, _ = make_app(db)
    with TestClient(app) as client:
        token = client.get("/auth/csrf").json()["csrf_token"]  # starts a session
        form = {"identifier": "ada", "password": PASSWORD, "csrf_token": token}
        assert client.post("/auth/login", data=form).status_code == 200
        assert client.get("/auth/me").json()["username"] == "ada"
        forged = {**form, "csrf_token": "forged"}
        assert client.post("/auth/login", data=forged).status_code == 403


# Validation errors name their source ---------------------------------------------------


def test_login_422_locates_its_errors_in_the_body(db: Database) -> None:
    app, _ = make_app(db)
    body = {"identifier": "", "password": "p" * 5000, "is_staff": "1"}
    expected = [["body", "identifier"], ["body", "is_staff"], ["body", "password"]]
    with TestClient(app) as client:
        for response in (
            client.post("/auth/login", json=body),
            client.post("/auth/login", data=body),
        ):
            assert response.status_code == 422
            assert sorted(error["loc"] for error in response.json()["detail"]) == expected


def test_refresh_and_logout_422_locate_their_errors_in_the_body(db: Database) -> None:
    jwt = JWTConfig(issuer="https://trivium.test", audience="api", keys={"k1": "a" * 40})
    app, _ = make_app(db, jwt=jwt)
    with TestClient(app) as client:
        refresh = client.post("/auth/refresh", json={})
        logout = client.post("/auth/logout", json={"refresh_token": "t" * 5000})
    assert refresh.status_code == logout.status_code == 422
    assert [e["loc"] for e in refresh.json()["detail"]] == [["body", "refresh_token"]]
    assert [e["loc"] for e in logout.json()["detail"]] == [["body", "refresh_token"]]


def test_signup_weak_password_is_reported_at_the_password_field(db: Database) -> None:
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        weak = client.post("/auth/signup", json={"email": "eve@example.com", "password": "123"})
    assert weak.status_code == 422
    assert {tuple(error["loc"]) for error in weak.json()["detail"]} == {("body", "password")}
