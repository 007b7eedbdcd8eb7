"""The quota step answers at once while a client is far under quota, else asks the store."""

from __future__ import annotations

from examples.plugins.quota import Quota
from examples.plugins.quota import app
from trivium import App
from trivium import Request
from trivium.stores import MemoryStore
from trivium.testing import TestClient


def test_the_quota_counts_in_the_store_only_when_unsure_and_refuses_past_it() -> None:
    with TestClient(app) as client:
        first = client.get("/search", params={"q": "a"})
        # Far under the quota (4) after one request: for a second no request is counted,
        # so ten more all pass; counted each, the fifth would be refused.
        answers = [client.get("/search").status_code for _ in range(10)]
    assert first.json() == {"q": "a", "path": "/search"}
    assert answers == [200] * 10


def test_past_the_quota_the_step_refuses_with_429() -> None:
    strict = App(plugins=[Quota(MemoryStore(), per_minute=2)])

    @strict.get("/x")
    async def x(request: Request) -> str:
        return "ok"

    with TestClient(strict) as client:
        codes = [client.get("/x").status_code for _ in range(4)]
        refused = client.get("/x")
    assert codes == [200, 200, 429, 429]
    assert refused.json() == {"detail": "over the quota of 2 requests a minute"}
