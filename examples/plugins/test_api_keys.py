"""The key gate admits known keys, refuses the rest with 401, and leaves other routes alone."""

from __future__ import annotations

from examples.plugins.api_keys import app
from trivium.plugins import Gate
from trivium.testing import TestClient


def test_a_known_key_is_admitted_and_named_in_the_answer() -> None:
    with TestClient(app) as client:
        answer = client.get("/reports/2026", params={"quarter": 3}, headers={"x-api-key": "k-123"})
    assert answer.status_code == 200
    assert answer.json() == {"year": 2026, "quarter": 3}
    assert answer.headers["x-api-key-owner"] == "reporting"


def test_a_missing_or_unknown_key_is_refused_before_the_handler() -> None:
    with TestClient(app) as client:
        missing = client.get("/reports/2026")
        unknown = client.get("/reports/2026", headers={"x-api-key": "nope"})
        invalid = client.get("/reports/soon", headers={"x-api-key": "k-123"})
        health = client.get("/health")
    assert (missing.status_code, missing.json()) == (
        401,
        {"detail": "a valid X-API-Key header is required"},
    )
    assert unknown.status_code == 401
    assert "x-api-key-owner" not in unknown.headers
    assert invalid.status_code == 422  # parameters are checked once the gate admitted
    assert invalid.headers["x-api-key-owner"] == "reporting"
    assert health.status_code == 200


def test_the_guarded_route_is_served_as_a_gated_route() -> None:
    app.build()
    route = next(r for r in app.routes if getattr(r, "path", "") == "/reports/{year}")
    assert [isinstance(step, Gate) for step in route.request_steps] == [True]
