"""The quota step counts every admitted request; a client found over quota is refused at once."""

from __future__ import annotations

from examples.plugins.quota import Quota
from examples.plugins.quota import app
from trivium import App
from trivium import Request
from trivium.stores import MemoryStore
from trivium.testing import TestClient


def test_every_request_counts_and_past_the_quota_refusals_skip_the_store() -> None:
    counted: list[str] = []

    class CountingStore(MemoryStore):
        async def incr(self, key: str, ttl: float) -> int:
            counted.append(key)
            return await super().incr(key, ttl)

    strict = App(plugins=[Quota(CountingStore(), per_minute=4)])

    @strict.get("/search")
    async def search(request: Request, q: str = "") -> dict[str, str]:
        return {"q": q, "path": request.url.path}

    with TestClient(strict) as client:
        first = client.get("/search", params={"q": "a"})
        codes = [client.get("/search").status_code for _ in range(9)]
    assert first.json() == {"q": "a", "path": "/search"}
    assert codes == [200, 200, 200, 429, 429, 429, 429, 429, 429]
    # Four admitted and the first refusal asked the store; the later refusals did not.
    assert len(counted) == 5


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


def test_the_example_app_allows_four_a_minute() -> None:
    with TestClient(app) as client:
        codes = [client.get("/search", params={"q": "x"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]
