"""The OAuth2 password grant (`POST /auth/token`) shares the login throttle, as login does."""

from __future__ import annotations

from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import make_app

from trivium.auth import JWTConfig
from trivium.db import Database
from trivium.testing import TestClient

CONFIG = JWTConfig(keys={"k1": "k" * 40})


def _grant(client: TestClient, password: str = PASSWORD) -> int:
    form = {"username": "ada", "password": password}
    return client.post("/auth/token", data=form).status_code


def test_a_successful_grant_clears_the_identifiers_counter(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db, jwt=CONFIG)
    with TestClient(app) as client:
        assert [_grant(client) for _ in range(8)] == [200] * 8
        # Four wrong guesses after a success still leave room for the right one.
        assert [_grant(client, "wrong") for _ in range(4)] == [400] * 4
        assert _grant(client) == 200


def test_wrong_grants_are_still_throttled(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db, jwt=CONFIG)
    with TestClient(app) as client:
        assert [_grant(client, "wrong") for _ in range(5)] == [400] * 5
        refused = client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
        assert refused.status_code == 429
        assert "retry-after" in refused.headers
