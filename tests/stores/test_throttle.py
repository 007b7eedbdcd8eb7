"""Throttle: counts per key and window, reset, retry_after."""

from __future__ import annotations

import anyio
import pytest

from trivium.errors import ConfigurationError
from trivium.stores import MemoryStore
from trivium.stores import Store
from trivium.stores import Throttle

pytestmark = [pytest.mark.anyio, pytest.mark.drives_no_app]


async def test_hits_within_the_limit_are_allowed_then_refused(store: Store) -> None:
    throttle = Throttle(store, limit=3, window=60)
    results = [await throttle.hit("user:1") for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert results[0].retry_after == 0
    assert 0 < results[3].retry_after <= 60
    assert results[3].retry_after_header.isdigit()


async def test_keys_are_counted_separately(store: Store) -> None:
    throttle = Throttle(store, limit=1, window=60)
    assert (await throttle.hit("a")).allowed
    assert (await throttle.hit("b")).allowed
    assert not (await throttle.hit("a")).allowed


async def test_reset_forgets_the_hits(store: Store) -> None:
    throttle = Throttle(store, limit=1, window=60)
    await throttle.hit("k")
    assert not (await throttle.hit("k")).allowed
    await throttle.reset("k")
    assert (await throttle.hit("k")).allowed


async def test_a_new_window_allows_hits_again() -> None:
    throttle = Throttle(MemoryStore(), limit=1, window=0.3)
    await throttle.hit("k")
    refused = await throttle.hit("k")
    assert not refused.allowed
    await anyio.sleep(refused.retry_after + 0.05)
    assert (await throttle.hit("k")).allowed


@pytest.mark.parametrize(("limit", "window"), [(0, 1), (1, 0), (True, 1), (1, float("nan"))])
def test_invalid_limits_are_refused(limit: int, window: float) -> None:
    with pytest.raises(ConfigurationError) as info:
        Throttle(MemoryStore(), limit=limit, window=window)
    assert info.value.code == "throttle-invalid"
