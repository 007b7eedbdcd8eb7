"""User keys never reach the cache's own keys: tag counters, locks, responses."""

from __future__ import annotations

import pytest

from trivium import App
from trivium.cache import Cache
from trivium.cache import CacheRule
from trivium.cache import cached
from trivium.stores import RedisStore
from trivium.stores import Store
from trivium.testing import TestClient


@pytest.mark.anyio
async def test_a_user_key_named_like_a_tag_counter_leaves_tagged_entries_alone(
    store: Store,
) -> None:
    cache = Cache(store)
    await cache.set("articles:latest", ["a1", "a2"], tags=["python"])
    await cache.set("tag:python", ["a1", "a7"])  # a blog's page of the tag 'python'
    assert await cache.get("articles:latest") == ["a1", "a2"]
    await cache.set("articles:old", ["a0"], tags="python")
    await cache.invalidate(tags=["python"])
    assert await cache.get("articles:latest") is None
    assert await cache.get("articles:old") is None
    assert await cache.get("tag:python") == ["a1", "a7"]


@pytest.mark.anyio
async def test_a_user_key_named_like_a_lock_leaves_get_or_set_alone(store: Store) -> None:
    cache = Cache(store, wait=0.5)
    await cache.set("lock:report", "drafted")
    calls: list[int] = []

    async def compute() -> int:
        calls.append(1)
        return 42

    assert await cache.get_or_set("report", compute) == 42
    assert await cache.get_or_set("report", compute) == 42
    assert calls == [1]
    assert await cache.get("lock:report") == "drafted"


@pytest.mark.anyio
async def test_values_are_kept_under_their_own_namespace_in_redis(store: Store) -> None:
    if not isinstance(store, RedisStore):
        pytest.skip("the key layout of a Redis store")
    cache = Cache(store, prefix="blog:")
    await cache.set("tag:python", 1, tags="python")
    await cache.invalidate(tags="python")
    keys = sorted([key.decode() async for key in store.client.scan_iter(f"{store.prefix}*")])
    assert keys == [f"{store.prefix}blog:k:tag:python", f"{store.prefix}blog:t:python"]


def test_a_cached_tag_page_does_not_break_responses_cached_under_the_tag() -> None:
    cache = Cache()
    app = App(plugins=[cache])

    @cached(key="tag:{slug}")
    async def tag_page(slug: str) -> dict[str, object]:
        return {"tag": slug, "articles": ["a1", "a7"]}

    @app.get("/tags/{slug}")
    async def tags(slug: str) -> dict[str, object]:
        return await tag_page(slug)

    @app.get("/python-news", cache=CacheRule(60, tags="python"))
    async def news() -> dict[str, list[str]]:
        return {"news": ["3.14 is out"]}

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/python-news").status_code == 200
        assert client.get("/tags/python").json() == {"tag": "python", "articles": ["a1", "a7"]}
        for answer in [
            client.get("/python-news", headers={"cache-control": "no-cache"}),
            client.get("/python-news?page=2"),
            client.get("/python-news"),
        ]:
            assert answer.status_code == 200
            assert answer.json() == {"news": ["3.14 is out"]}
