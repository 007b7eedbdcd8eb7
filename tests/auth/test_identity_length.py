"""User names and emails fit their columns once normalised: NFKC can make text longer."""

from __future__ import annotations

from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import make_app
from tests.auth.test_pages import client_for
from tests.auth.test_pages import make_pages_app
from tests.auth.test_pages import submit

from trivium.db import Database
from trivium.testing import TestClient

LIGATURES = "\ufb00" * 100
"""100 characters, 200 once normalised (each ligature becomes "ff"): over 150."""
FITS = "\ufb00" * 75
"""150 characters once normalised: the longest user name."""
TOO_LONG = "A user name can have at most 150 characters once normalised"


def test_signup_refuses_a_user_name_too_long_once_normalised(db: Database) -> None:
    app, _ = make_app(db, signup=True)
    body = {"email": "lig@example.com", "username": LIGATURES, "password": PASSWORD}
    with TestClient(app) as client:
        response = client.post("/auth/signup", json=body)
        assert client.get("/whoami").json()["id"] is None
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "username"]
    assert TOO_LONG in error["msg"]


def test_signup_takes_a_user_name_that_fits_once_normalised(db: Database) -> None:
    app, _ = make_app(db, signup=True)
    body = {"email": "lig@example.com", "username": FITS, "password": PASSWORD}
    with TestClient(app) as client:
        response = client.post("/auth/signup", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["username"] == "ff" * 75


def test_me_update_refuses_a_user_name_too_long_once_normalised(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        response = client.patch("/auth/me", json={"username": LIGATURES}, headers=csrf(client))
        assert client.get("/auth/me").json()["username"] == "ada"
    assert response.status_code == 422, response.text
    assert TOO_LONG in response.json()["detail"][0]["msg"]


def test_me_update_refuses_a_blank_user_name(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        response = client.patch("/auth/me", json={"username": "   "}, headers=csrf(client))
        assert client.get("/auth/me").json()["username"] == "ada"
    assert response.status_code == 422, response.text


def test_signup_page_refuses_a_user_name_too_long_once_normalised(db: Database) -> None:
    form = {
        "email": "lig@example.com",
        "username": LIGATURES,
        "new_password1": PASSWORD,
        "new_password2": PASSWORD,
    }
    with client_for(make_pages_app(db, signup=True)) as client:
        page = submit(client, "/accounts/signup", form)
        assert client.get("/whoami").json()["id"] is None
    assert page.status_code == 422, page.text
    assert TOO_LONG in page.text
