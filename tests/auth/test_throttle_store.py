"""Login throttling in a `DatabaseStore`: any identifier a client sends makes a valid key."""

from __future__ import annotations

import pytest
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import login
from tests.auth.authapp import make_app

from trivium.auth import JWTConfig
from trivium.auth import LoginThrottle
from trivium.db import Database
from trivium.stores import DatabaseStore
from trivium.testing import TestClient

JWT = JWTConfig(keys={"k1": "j" * 40})


@pytest.mark.parametrize("length", [240, 254])
def test_a_long_unknown_identifier_is_counted_like_any_other(db: Database, length: int) -> None:
    throttle = LoginThrottle(per_identifier=(2, 86400.0))
    app, _ = make_app(db, throttle_store=DatabaseStore(db), login_throttle=throttle)
    with TestClient(app) as client:
        answers = [login(client, "a" * length, "wrong").status_code for _ in range(3)]
    assert answers == [401, 401, 429]


def test_a_long_user_name_on_the_token_endpoint_is_wrong_credentials(db: Database) -> None:
    app, _ = make_app(db, jwt=JWT, throttle_store=DatabaseStore(db))
    with TestClient(app) as client:
        response = client.post("/auth/token", data={"username": "a" * 1000, "password": "x"})
    assert response.status_code == 400, response.text


def test_a_user_name_with_nul_is_wrong_credentials_before_the_throttle(db: Database) -> None:
    add_user(db, username="eve")
    throttle = LoginThrottle(per_identifier=(1, 86400.0))
    app, _ = make_app(db, jwt=JWT, throttle_store=DatabaseStore(db), login_throttle=throttle)
    with TestClient(app) as client:
        refused = client.post("/auth/token", data={"username": "eve\x00", "password": PASSWORD})
        # Not counted on the account: eve's one attempt is left.
        accepted = client.post("/auth/token", data={"username": "eve", "password": PASSWORD})
    assert refused.status_code == 400, refused.text
    assert refused.json() == {"detail": "Incorrect username or password"}
    assert accepted.status_code == 200, accepted.text
