"""The Store protocol's behaviour, identical on every backend."""

from __future__ import annotations

import anyio
import pytest

from trivium.errors import ConfigurationError
from trivium.stores import MemoryStore
from trivium.stores import Store

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def test_stores_implement_the_protocol(store: Store) -> None:
    assert isinstance(store, Store)


async def test_missing_key_reads_as_none(store: Store) -> None:
    assert await store.get("nothing-here") is None


async def test_set_then_get_returns_the_bytes(store: Store) -> None:
    await store.set("greeting", b"hello \x00\xff")
    assert await store.get("greeting") == b"hello \x00\xff"


async def test_set_overwrites(store: Store) -> None:
    await store.set("k", b"one", ttl=60)
    await store.set("k", b"two")
    assert await store.get("k") == b"two"


async def test_delete_removes_and_tolerates_missing_keys(store: Store) -> None:
    await store.set("k", b"v")
    await store.delete("k")
    await store.delete("k")
    assert await store.get("k") is None


async def test_values_expire_after_their_ttl(store: Store) -> None:
    await store.set("short", b"v", ttl=0.3)
    await store.set("long", b"v", ttl=60)
    assert await store.get("short") == b"v"
    await anyio.sleep(0.5)
    assert await store.get("short") is None
    assert await store.get("long") == b"v"


async def test_incr_counts_from_one(store: Store) -> None:
    assert [await store.incr("hits", ttl=60) for _ in range(3)] == [1, 2, 3]
    assert await store.get("hits") == b"3"


async def test_incr_restarts_after_the_ttl(store: Store) -> None:
    await store.incr("hits", ttl=0.3)
    assert await store.incr("hits", ttl=0.3) == 2
    await anyio.sleep(0.5)
    assert await store.incr("hits", ttl=0.3) == 1


async def test_concurrent_incr_loses_no_count(store: Store) -> None:
    async def hit() -> None:
        await store.incr("concurrent", ttl=60)

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(hit)
    assert await store.get("concurrent") == b"10"


@pytest.mark.parametrize("ttl", [0, -1, float("inf"), "10"])
async def test_invalid_ttl_is_refused(store: Store, ttl: object) -> None:
    with pytest.raises(ValueError, match="ttl must be a positive number"):
        await store.set("k", b"v", ttl=ttl)  # type: ignore[arg-type]


async def test_non_bytes_values_are_refused(store: Store) -> None:
    with pytest.raises(TypeError, match="store values are bytes"):
        await store.set("k", "text")  # type: ignore[arg-type]


async def test_memory_store_evicts_the_least_recently_used_key() -> None:
    store = MemoryStore(max_entries=3)
    for key in "abc":
        await store.set(key, b"v")
    await store.get("a")
    await store.set("d", b"v")
    assert await store.get("b") is None
    assert [await store.get(k) for k in "acd"] == [b"v", b"v", b"v"]
    assert len(store) == 3


async def test_memory_store_evicts_expired_keys_first() -> None:
    store = MemoryStore(max_entries=2)
    await store.set("old", b"v", ttl=0.05)
    await store.set("keep", b"v")
    await anyio.sleep(0.1)
    await store.set("new", b"v")
    assert await store.get("keep") == b"v"
    assert await store.get("new") == b"v"


def test_memory_store_size_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="max_entries") as info:
        MemoryStore(max_entries=0)
    assert info.value.code == "store-max-entries"
