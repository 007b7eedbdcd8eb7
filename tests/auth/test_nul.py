"""A NUL character in client text is refused before any query (PostgreSQL cannot hold it)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import csrf
from tests.auth.authapp import login
from tests.auth.authapp import make_app
from tests.auth.test_pages import BAD_LOGIN
from tests.auth.test_pages import client_for
from tests.auth.test_pages import make_pages_app
from tests.auth.test_pages import submit

from trivium.auth import JWTConfig
from trivium.auth import MemoryMailer
from trivium.auth import create_user
from trivium.auth import get_user_by_identifier
from trivium.db import Database
from trivium.testing import TestClient

NUL_PATTERN = {
    "type": "string_pattern_mismatch",
    "msg": "String should match pattern '^[^\\x00]*$'",
}


def _nul_error(response: httpx.Response, loc: list[str | int]) -> None:
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert {key: error[key] for key in ("type", "loc", "msg")} == {**NUL_PATTERN, "loc": loc}


def test_login_refuses_an_identifier_with_nul_as_422(db: Database) -> None:
    add_user(db, username="ab")
    app, _ = make_app(db)
    body = {"identifier": "a\x00b", "password": "whatever-123"}
    with TestClient(app) as client:
        as_json = client.post("/auth/login", json=body)
        as_form = client.post("/auth/login", data=body)
    _nul_error(as_json, ["body", "identifier"])
    _nul_error(as_form, ["body", "identifier"])


def test_login_keeps_a_nul_in_the_password_for_the_hash(db: Database) -> None:
    add_user(db, username="ada", password="nul\x00inside the passphrase")
    app, _ = make_app(db)
    with TestClient(app) as client:
        assert login(client, "ada", "nul\x00inside the passphrase").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"), [("username", "x\x00y"), ("email", "a\x00b@example.com")]
)
def test_signup_refuses_nul_as_422(db: Database, field: str, value: str) -> None:
    app, _ = make_app(db, signup=True)
    body = {"email": "ada@example.com", "password": PASSWORD, field: value}
    with TestClient(app) as client:
        response = client.post("/auth/signup", json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]


def test_me_update_refuses_a_user_name_with_nul_as_422(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        response = client.patch("/auth/me", json={"username": "x\x00y"}, headers=csrf(client))
    _nul_error(response, ["body", "username"])


@pytest.mark.parametrize(
    ("body", "loc"),
    [({"name": "x\x00y"}, ["body", "name"]), ({"name": "ci", "scopes": ["a\x00"]}, None)],
)
def test_new_token_refuses_nul_as_422(
    db: Database, body: dict[str, object], loc: list[str | int] | None
) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        login(client, "ada")
        response = client.post("/auth/tokens", json=body, headers=csrf(client))
    _nul_error(response, loc or ["body", "scopes", 0])


def test_reset_request_refuses_an_email_with_nul_as_422(db: Database) -> None:
    mailer = MemoryMailer()
    app, _ = make_app(db, mail=mailer)
    with TestClient(app) as client:
        response = client.post("/auth/password/reset", json={"email": "a\x00@example.com"})
    _nul_error(response, ["body", "email"])
    assert mailer.outbox == []


@pytest.mark.anyio
async def test_lookup_by_an_identifier_with_nul_finds_nobody(session: AsyncSession) -> None:
    """`get_user_by_identifier` (the login, throttle and reset lookups) never sends a NUL."""
    await create_user(session, username="ab", email="ab@example.com")
    for identifier in ("a\x00b", "ab@example.com\x00", "\x00"):
        assert await get_user_by_identifier(session, identifier) is None


def test_oauth2_token_endpoint_refuses_a_user_name_with_nul_as_wrong_credentials(
    db: Database,
) -> None:
    add_user(db, username="ab")
    app, _ = make_app(
        db, jwt=JWTConfig(issuer="https://trivium.test", audience="api", keys={"k1": "a" * 40})
    )
    form = {"grant_type": "password", "username": "a\x00b", "password": PASSWORD}
    with TestClient(app) as client:
        response = client.post("/auth/token", data=form)
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "Incorrect username or password"}


# The HTML pages answer their form errors -----------------------------------------------


def test_login_page_refuses_an_identifier_with_nul_with_the_form_error(db: Database) -> None:
    add_user(db, username="ab")
    with client_for(make_pages_app(db)) as client:
        page = submit(client, "/accounts/login", {"identifier": "a\x00b", "password": PASSWORD})
    assert page.status_code == 422, page.text
    assert 'aria-invalid="true"' in page.text
    assert BAD_LOGIN not in page.text


@pytest.mark.parametrize(
    ("field", "value"), [("username", "x\x00y"), ("email", "a\x00b@example.com")]
)
def test_signup_page_refuses_nul_with_the_form_error(db: Database, field: str, value: str) -> None:
    form = {
        "email": "ada@example.com",
        "username": "ada",
        "new_password1": PASSWORD,
        "new_password2": PASSWORD,
        field: value,
    }
    with client_for(make_pages_app(db, signup=True)) as client:
        page = submit(client, "/accounts/signup", form)
        assert client.get("/whoami").json()["id"] is None
    assert page.status_code == 422, page.text
    assert 'aria-invalid="true"' in page.text


def test_reset_page_refuses_an_email_with_nul_with_the_form_error(db: Database) -> None:
    mailer = MemoryMailer()
    with client_for(make_pages_app(db, mail=mailer)) as client:
        page = submit(client, "/accounts/password/reset", {"email": "a\x00@example.com"})
    assert page.status_code == 422, page.text
    assert 'aria-invalid="true"' in page.text
    assert mailer.outbox == []


@pytest.mark.parametrize("key", ["trv_abcdef\x0012345_secret", "trv_abcdef123456_sec\x00ret"])
def test_api_token_with_nul_is_refused_as_invalid(db: Database, key: str) -> None:
    app, _ = make_app(db)
    with TestClient(app) as client:
        response = client.get("/whoami", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Invalid, expired or revoked API token"}
