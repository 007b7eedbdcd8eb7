"""One account, one identity: normalised lookups, uniqueness and throttling on every database."""

from __future__ import annotations

import pytest
from tests.auth.authapp import add_user
from tests.auth.authapp import login
from tests.auth.authapp import make_app
from tests.auth.authapp import use_session

from trivium.auth import LoginThrottle
from trivium.auth import normalize_email
from trivium.auth import normalize_username
from trivium.db import Database
from trivium.testing import TestClient

NEW = "a brand new long passphrase"
FULL_WIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"  # "alice" in full-width letters


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("  Alice@Example.COM ", "alice@example.com"),
        (f"{FULL_WIDTH_ALICE}@example.com", "alice@example.com"),
        ("STRASSE@example.com", "strasse@example.com"),
        ("Straße@example.com", "strasse@example.com"),
        ("Álice@example.com", "álice@example.com"),  # accents are kept
        ("A\u0301lice@example.com", "álice@example.com"),  # composed, as NFKC does
    ],
)
def test_normalisation_is_nfkc_and_case_folding(raw: str, canonical: str) -> None:
    assert normalize_email(raw) == canonical
    assert normalize_username(raw) == canonical


def test_an_accented_spelling_is_another_account_on_every_database(db: Database) -> None:
    alice = add_user(db, username="alice", email="alice@example.com")
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        for spelling in ("álice@example.com", "álice"):
            assert login(client, spelling).status_code == 401
        use_session(client, None)
        other = client.post("/auth/signup", json={"email": "álice@example.com", "password": NEW})
        assert other.status_code == 201, other.text
        assert other.json()["id"] != alice
        assert other.json()["email"] == "álice@example.com"
        use_session(client, None)
        assert login(client, "ALICE@example.com").json()["id"] == alice
        use_session(client, None)
        assert login(client, "Álice@Example.com", NEW).json()["id"] == other.json()["id"]


@pytest.mark.parametrize(
    "email", ["ALICE@example.com", f"{FULL_WIDTH_ALICE}@example.com", " alice@EXAMPLE.com"]
)
def test_case_and_width_variants_are_one_account(db: Database, email: str) -> None:
    alice = add_user(db, username="alice", email="alice@example.com")
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        assert login(client, email).json()["id"] == alice
        use_session(client, None)
        duplicate = client.post("/auth/signup", json={"email": email, "password": NEW})
    assert duplicate.status_code == 409


def test_user_names_are_unique_whatever_their_case(db: Database) -> None:
    ada = add_user(db, username="Ada", email="ada@example.com")
    app, _ = make_app(db, signup=True)
    with TestClient(app) as client:
        taken = client.post(
            "/auth/signup", json={"email": "x@example.com", "username": "ADA", "password": NEW}
        )
        assert taken.status_code == 409
        assert login(client, "aDa").json()["id"] == ada
        assert client.get("/auth/me").json()["username"] == "ada"


def test_the_user_name_and_email_of_an_account_share_one_throttle(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    app, _ = make_app(db, login_throttle=LoginThrottle(per_identifier=(3, 86400.0)))
    with TestClient(app) as client:
        for spelling in ("ada", "ada@example.com", "ADA@Example.com"):
            assert login(client, spelling, "wrong").status_code == 401
        for spelling in ("ada", "ada@example.com", "Ada"):
            assert login(client, spelling).status_code == 429


def test_an_accented_spelling_does_not_count_on_the_real_account(db: Database) -> None:
    add_user(db, username="alice", email="alice@example.com")
    app, _ = make_app(db, login_throttle=LoginThrottle(per_identifier=(2, 86400.0)))
    with TestClient(app) as client:
        for _ in range(2):
            assert login(client, "álice@example.com", "wrong").status_code == 401
        assert login(client, "álice@example.com", "wrong").status_code == 429
        assert login(client, "alice@example.com").status_code == 200
