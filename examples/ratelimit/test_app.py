"""The rate limiting example, driven over HTTP (memory counters; Redis in tests/ratelimit)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.ratelimit import app as example
from trivium.testing import TestClient


@pytest.fixture
def client() -> Iterator[TestClient]:
    example.limits.backend.reset_all()  # a fresh budget for each test
    with TestClient(example.app) as client:
        yield client


def test_search_allows_a_burst_of_five_then_429(client: TestClient) -> None:
    answers = [client.get("/search", params={"q": "x"}) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[0].headers["ratelimit-policy"] == "5;w=1, 100;w=60"
    assert answers[-1].headers["retry-after"] == "1"
    assert answers[-1].json()["detail"].startswith("Too many requests: the limit is 5 per second")


def test_api_keys_have_their_own_budget_and_exports_cost_five(client: TestClient) -> None:
    key = {"x-api-key": "demo-key"}
    assert client.post("/api/exports", headers=key).headers["ratelimit-remaining"] == "5"
    assert client.post("/api/exports", headers=key).status_code == 200
    assert client.get("/api/reports", headers=key).status_code == 429
    other = client.get("/api/reports", headers={"x-api-key": "other-key"})
    assert other.headers["ratelimit-remaining"] == "9"


def test_a_refused_api_key_still_sees_its_budget(client: TestClient) -> None:
    answer = client.get("/api/reports", headers={"x-api-key": "stolen"})
    assert answer.status_code == 401
    assert answer.headers["ratelimit-remaining"] == "9"


def test_contact_form_dependency_and_exempt_health(client: TestClient) -> None:
    assert [client.post("/contact").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert "ratelimit-limit" not in client.get("/health").headers


def test_default_budget_applies_to_routes_without_their_own(client: TestClient) -> None:
    # /contact's dependency runs after the route's default limit (1000/hour).
    assert client.post("/contact").headers["ratelimit-limit"] == "3"


def test_chat_messages_are_limited(client: TestClient) -> None:
    with client.websocket_connect("/chat") as ws:
        for number in range(20):
            ws.send_text(str(number))
            assert ws.receive_text() == str(number)
        ws.send_text("one too many")
        assert ws.receive()["code"] == 1008
