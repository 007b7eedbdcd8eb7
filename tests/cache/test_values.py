"""`Cache` as a value cache on every store: get/set, expiry, tags, one computation per key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from trivium.cache import Cache
from trivium.cache import CacheRule
from trivium.cache import cached
from trivium.errors import ConfigurationError
from trivium.stores import Store

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def test_values_round_trip_as_json_and_are_deleted(store: Store) -> None:
    cache = Cache(store)
    assert await cache.get("missing") is None
    assert await cache.get("missing", "fallback") == "fallback"
    await cache.set("user:1", {"name": "Ada", "tags": ["x"], "n": 1.5})
    assert await cache.get("user:1") == {"name": "Ada", "tags": ["x"], "n": 1.5}
    await cache.delete("user:1")
    assert await cache.get("user:1") is None
    with pytest.raises(TypeError):
        await cache.set("bad", object())


async def test_an_expired_value_is_served_stale_only_while_recomputed(store: Store) -> None:
    cache = Cache(store, ttl=0.2, stale=30)
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        return calls

    assert await cache.get_or_set("k", compute) == 1
    assert await cache.get_or_set("k", compute) == 1  # fresh
    await asyncio.sleep(0.3)
    assert await cache.get_or_set("k", compute) == 2  # expired: recomputed by this caller
    assert await cache.get("k") == 2


async def test_concurrent_misses_compute_once(store: Store) -> None:
    cache = Cache(store, wait=5)
    calls = 0

    async def slow() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)
        return "value"

    results = await asyncio.gather(*(cache.get_or_set("cold", slow) for _ in range(50)))
    assert results == ["value"] * 50
    assert calls == 1


async def test_tags_invalidate_every_entry_saved_under_them(store: Store) -> None:
    cache = Cache(store)
    await cache.set("a", 1, tags=["articles"])
    await cache.set("b", 2, tags=["articles", "users"])
    await cache.set("c", 3, tags=["users"])
    await cache.invalidate(tags=["articles"])
    assert [await cache.get(key) for key in "abc"] == [None, None, 3]
    await cache.set("a", 4, tags=["articles"])  # saved after: current again
    assert await cache.get("a") == 4


async def test_cached_functions_key_by_arguments(store: Store) -> None:
    cache = Cache(store)
    calls: list[Any] = []

    @cache.cached(ttl=60)
    async def square(n: int, *, offset: int = 0) -> int:
        calls.append(n)
        return n * n + offset

    @cache.cached(key="profile:{user_id}", tags=("users",))
    async def profile(user_id: int) -> dict[str, int]:
        calls.append(("profile", user_id))
        return {"id": user_id}

    assert [await square(3), await square(3), await square(4), await square(3, offset=1)] == [
        9,
        9,
        16,
        10,
    ]
    assert calls == [3, 4, 3]
    assert await profile(7) == {"id": 7}
    assert await cache.get("profile:7") == {"id": 7}
    await cache.invalidate(tags=["users"])
    assert await profile(7) == {"id": 7}
    assert calls[-2:] == [("profile", 7), ("profile", 7)]


@pytest.mark.parametrize(
    "options",
    [{"ttl": 0}, {"ttl": -1}, {"stale": -1}, {"wait": "5"}, {"ttl": True}, {"prefix": 3}],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Cache(**options)
    assert caught.value.code == "cache-option"


def test_a_store_that_is_not_one_is_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Cache({})  # type: ignore[arg-type]
    assert caught.value.code == "cache-store"


def test_cached_refuses_a_sync_function() -> None:
    with pytest.raises(ConfigurationError, match="async function"):
        Cache().cached()(lambda: 1)  # type: ignore[arg-type]


async def test_get_returns_the_default_once_the_ttl_passed(store: Store) -> None:
    cache = Cache(store, stale=30)
    await cache.set("k", "v", ttl=0.2)
    assert await cache.get("k", "gone") == "v"
    await asyncio.sleep(0.3)
    assert await cache.get("k", "gone") == "gone"


async def test_waiters_compute_themselves_when_the_computation_fails(store: Store) -> None:
    cache = Cache(store, wait=30)
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        raise ValueError("database down")

    with anyio.fail_after(10):  # far below `wait`: nobody sleeps it out
        results = await asyncio.gather(
            *(cache.get_or_set("cold", failing) for _ in range(5)), return_exceptions=True
        )
    assert all(isinstance(result, ValueError) for result in results)
    assert calls == 5


async def test_one_string_is_one_tag(store: Store) -> None:
    cache = Cache(store)
    await cache.set("a", 1, tags="articles")

    @cache.cached(key="b", tags="articles")
    async def b() -> int:
        return 2

    assert await b() == 2
    await cache.invalidate(tags=["articles"])
    assert (await cache.get("a"), await cache.get("b")) == (None, None)
    await cache.set("c", 3, tags="articles")
    await cache.invalidate(tags="articles")
    assert await cache.get("c") is None


@pytest.mark.parametrize(
    ("make", "option"),
    [
        (lambda: CacheRule(vary=5), "vary"),  # type: ignore[arg-type]
        (lambda: CacheRule(vary=["accept", 5]), "vary"),  # type: ignore[list-item]
        (lambda: CacheRule(private="yes"), "private"),  # type: ignore[arg-type]
        (lambda: CacheRule(tags=5), "tags"),  # type: ignore[arg-type]
        (lambda: Cache().cached(tags=[""]), "tags"),
        (lambda: cached(tags=7), "tags"),  # type: ignore[arg-type]
        (lambda: cached()(lambda: 1), "async function"),  # type: ignore[arg-type]
    ],
)
def test_bad_rule_and_decorator_options_are_refused_naming_them(
    make: Callable[[], object], option: str
) -> None:
    with pytest.raises(ConfigurationError, match=option) as caught:
        make()
    assert caught.value.code == "cache-option"


def test_a_url_that_is_not_redis_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="memcached://x") as caught:
        Cache("memcached://x")
    assert caught.value.code == "cache-store"
