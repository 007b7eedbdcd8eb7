"""Responses the auth battery makes itself carry the app's default security headers."""

from __future__ import annotations

from tests.auth.authapp import make_app

from trivium.db import Database
from trivium.testing import TestClient


def test_rejected_credential_401_carries_the_default_headers(db: Database) -> None:
    app, _ = make_app(db)
    with TestClient(app) as client:
        response = client.get("/whoami", headers={"authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
