"""Session authentication: login, logout, fixation, password changes, CSRF, throttling."""

from __future__ import annotations

import pytest
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import login_as
from tests.auth.authapp import make_app
from tests.auth.authapp import use_session

from trivium import App
from trivium.auth import Auth
from trivium.auth import LoginThrottle
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


def test_anonymous_request_has_an_anonymous_user(db: Database) -> None:
    app, _ = make_app(db)
    with TestClient(app) as client:
        assert client.get("/whoami").json() == {"authenticated": False, "id": None, "method": None}
        response = client.get("/auth/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated"}


def test_login_sets_the_session_user_and_last_login(db: Database) -> None:
    user_id = add_user(db, email="ada@example.com", username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        response = login(client, "ada")
        assert response.status_code == 200
        assert response.json()["id"] == user_id
        assert response.json()["last_login"] is not None
        assert client.get("/whoami").json() == {
            "authenticated": True,
            "id": user_id,
            "method": "session",
        }
        assert client.get("/auth/me").json()["email"] == "ada@example.com"


def test_login_accepts_the_email_and_a_form(db: Database) -> None:
    add_user(db, email="ada@example.com")
    app, _ = make_app(db)
    with TestClient(app) as client:
        response = client.post(
            "/auth/login", data={"identifier": "ADA@example.com", "password": PASSWORD}
        )
    assert response.status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        wrong = login(client, "ada", "not the password")
        unknown = login(client, "nobody", "not the password")
        assert client.get("/auth/me").status_code == 401
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Invalid credentials"}
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"


def test_inactive_user_cannot_log_in(db: Database) -> None:
    add_user(db, username="ada", is_active=False)
    app, _ = make_app(db)
    with TestClient(app) as client:
        assert login(client, "ada").status_code == 401


def test_malformed_login_bodies_are_client_errors(db: Database) -> None:
    app, _ = make_app(db)
    with TestClient(app) as client:
        assert (
            client.post(
                "/auth/login", content=b"{", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )
        assert client.post("/auth/login", json=[1]).status_code == 400
        assert (
            client.post(
                "/auth/login", content=b"x", headers={"content-type": "text/plain"}
            ).status_code
            == 415
        )
        assert client.post("/auth/login", json={"identifier": "a"}).status_code == 422


def test_login_rotates_the_session_id(db: Database) -> None:
    """Session fixation: a cookie planted before login is not logged in afterwards."""
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        client.get("/auth/csrf")  # creates an anonymous session
        planted = client.cookies["session"]
        assert login(client, "ada").status_code == 200
        assert client.cookies["session"] != planted
        use_session(client, planted)
        assert client.get("/whoami").json()["authenticated"] is False


def test_logout_invalidates_the_session(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        cookie = client.cookies["session"]
        assert client.post("/auth/logout", headers=csrf(client)).status_code == 204
        assert client.get("/auth/me").status_code == 401
        client.cookies.clear()
        client.cookies.set("session", cookie)
        assert client.get("/auth/me").status_code == 401


def test_password_change_logs_out_other_sessions(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        phone = login_as(client, "ada")
        login_as(client, "ada")
        new = "a different long passphrase 42"
        response = client.post(
            "/auth/password/change",
            json={"old_password": PASSWORD, "new_password": new},
            headers=csrf(client),
        )
        assert response.status_code == 200
        assert client.get("/auth/me").status_code == 200
        use_session(client, phone)
        assert client.get("/auth/me").status_code == 401
        use_session(client, None)
        assert login(client, "ada").status_code == 401
        assert login(client, "ada", new).status_code == 200


def test_password_change_checks_the_old_password_and_the_validators(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        headers = csrf(client)
        wrong = client.post(
            "/auth/password/change",
            json={"old_password": "nope", "new_password": "another long passphrase"},
            headers=headers,
        )
        weak = client.post(
            "/auth/password/change",
            json={"old_password": PASSWORD, "new_password": "123"},
            headers=headers,
        )
    assert wrong.status_code == 400
    assert weak.status_code == 422
    assert all(e["loc"] == ["body", "new_password"] for e in weak.json()["detail"])
    assert len(weak.json()["detail"]) >= 2


def test_cookie_authenticated_post_needs_a_csrf_token(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        assert client.post("/write").status_code == 403
        assert client.post("/write", headers={"X-CSRF-Token": "forged"}).status_code == 403
        response = client.post("/write", headers=csrf(client))
    assert response.status_code == 200
    assert response.json() == {"wrote": user_id}


def test_token_authenticated_post_needs_no_csrf_token(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        key = client.post("/auth/tokens", json={"name": "ci"}, headers=csrf(client)).json()["token"]
        use_session(client, None)
        response = client.post("/write", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 200


def test_login_is_throttled_per_identifier_until_reset(db: Database) -> None:
    add_user(db, username="ada")
    app, auth = make_app(db, login_throttle=LoginThrottle(per_identifier=(2, 86400.0)))

    @app.get("/unlock/{identifier}")  # an admin's action, run on the app's event loop
    async def unlock(identifier: str) -> None:
        await auth.reset_login_throttle(identifier)

    with TestClient(app) as client:
        assert login(client, "ada", "wrong").status_code == 401
        assert login(client, "ada", "wrong").status_code == 401
        blocked = login(client, "ada")
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 86400
        assert blocked.json() == {"detail": "Too many login attempts; try again later"}
        assert (
            login(client, "ADA ").status_code == 429
        )  # same identifier, normalised (windows are clock-aligned: a day avoids an edge)
        assert client.get("/unlock/ADA").status_code == 200
        assert login(client, "ada").status_code == 200


def test_successful_login_resets_the_identifier_counter(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db, login_throttle=LoginThrottle(per_identifier=(2, 86400.0)))
    with TestClient(app) as client:
        assert login(client, "ada", "wrong").status_code == 401
        assert login(client, "ada").status_code == 200
        assert login(client, "ada", "wrong").status_code == 401
        assert login(client, "ada").status_code == 200


def test_login_is_throttled_per_client_address(db: Database) -> None:
    app, _ = make_app(db, login_throttle=LoginThrottle(per_ip=(3, 86400.0)))
    with TestClient(app) as client:
        codes = [login(client, f"user{i}", "x").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_staff_and_superuser_guards_answer_401_then_403(db: Database) -> None:
    add_user(db, username="ada")
    staff_id = add_user(db, username="bob", is_staff=True)
    root_id = add_user(db, username="root", is_staff=True, is_superuser=True)
    app, _ = make_app(db)
    with TestClient(app) as client:
        assert client.get("/staff").status_code == 401
        login_as(client, "ada")
        assert client.get("/staff").status_code == 403
        login_as(client, "bob")
        assert client.get("/staff").json() == staff_id
        assert client.get("/admin").status_code == 403
        login_as(client, "root")
        assert client.get("/admin").json() == root_id


def test_user_cannot_make_themselves_superuser(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        headers = csrf(client)
        escalate = client.patch(
            "/auth/me", json={"is_superuser": True, "is_staff": True}, headers=headers
        )
        renamed = client.patch("/auth/me", json={"username": "ada2"}, headers=headers)
        me = client.get("/auth/me").json()
        assert client.get("/admin").status_code == 403
    assert escalate.status_code == 422
    assert renamed.status_code == 200
    assert (me["username"], me["is_superuser"], me["is_staff"]) == ("ada2", False, False)


def test_short_secret_key_is_refused_at_start_up(db: Database) -> None:
    with pytest.raises(ConfigurationError, match="auth-secret-key"):
        Auth(db, secret_key="short")


def test_one_auth_per_app(db: Database) -> None:
    app = App()
    Auth(db, secret_key="k" * 40).init_app(app)
    with pytest.raises(ConfigurationError, match="plugin-duplicate"):
        Auth(db, secret_key="k" * 40).init_app(app)
