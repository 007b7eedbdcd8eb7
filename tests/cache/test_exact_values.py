"""Values read back as themselves or are refused; closures' default keys stay apart."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

import pytest

from trivium import App
from trivium.cache import Cache
from trivium.cache import cached
from trivium.stores import MemoryStore
from trivium.testing import TestClient

pytestmark = pytest.mark.anyio


@dataclasses.dataclass
class Point:
    x: float
    y: float


class Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    "value",
    [
        datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC),
        datetime.date(2027, 1, 1),
        uuid.UUID(int=7),
        Point(1.0, 2.0),
        (1, 2),
        {"at": [datetime.time(3, 0)]},
        Colour.RED,
        {1: "one"},
    ],
    ids=["datetime", "date", "uuid", "dataclass", "tuple", "nested-time", "enum", "int-key"],
)
async def test_a_value_that_would_not_read_back_as_itself_is_refused(value: Any) -> None:
    cache = Cache(MemoryStore())
    with pytest.raises(TypeError, match="the cache keeps"):
        await cache.set("k", value)
    assert await cache.get("k") is None

    async def compute() -> Any:
        return value

    with pytest.raises(TypeError, match="the cache keeps"):
        await cache.get_or_set("g", compute)
    assert await cache.get("g") is None


@pytest.mark.parametrize(
    "value", [Point(float("nan"), 1.0), [float("inf")], {"a": {"b": float("-inf")}}]
)
async def test_nan_anywhere_is_refused(value: Any) -> None:
    cache = Cache(MemoryStore())
    with pytest.raises((TypeError, ValueError), match="the cache keeps"):
        await cache.set("k", value)


async def test_a_cached_function_returning_a_datetime_raises_instead_of_a_string() -> None:
    cache = Cache(MemoryStore())

    @cache.cached(ttl=60)
    async def when() -> datetime.datetime:
        return datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)

    with pytest.raises(TypeError, match="isoformat"):
        await when()


async def test_json_values_still_read_back_as_themselves() -> None:
    cache = Cache(MemoryStore())
    value = {"a": [1, 2.5, "x", True, None, {"b": []}], "c": -(2**63)}
    await cache.set("k", value)
    assert await cache.get("k") == value


async def test_a_list_holding_itself_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(TypeError, match="deep"):
        await Cache(MemoryStore()).set("k", loop)


async def test_default_keys_may_hash_tuples_and_datetimes() -> None:
    cache = Cache(MemoryStore())

    @cache.cached(ttl=60)
    async def label(pair: tuple[int, int], at: datetime.date) -> str:
        return f"{pair[0]}-{pair[1]} {at.isoformat()}"

    assert await label((1, 2), datetime.date(2027, 1, 1)) == "1-2 2027-01-01"
    assert await label((1, 3), datetime.date(2027, 1, 1)) == "1-3 2027-01-01"


def make_price(cache: Cache, rate: int) -> Callable[[int], Awaitable[int]]:
    @cache.cached(ttl=60)
    async def price(amount: int) -> int:
        return amount * rate

    return price


async def test_closures_of_one_factory_keep_apart_entries() -> None:
    cache = Cache(MemoryStore())
    double = make_price(cache, 2)
    triple = make_price(cache, 3)
    assert await double(10) == 20
    assert await triple(10) == 30
    assert await double(10) == 20


def test_closures_decorated_with_the_serving_cache_keep_apart_entries() -> None:
    app = App(plugins=[Cache(MemoryStore())])

    def rated(rate: int) -> Callable[[int], Awaitable[int]]:
        @cached(ttl=60)
        async def price(amount: int) -> int:
            return amount * rate

        return price

    double, triple = rated(2), rated(3)

    @app.get("/prices")
    async def read() -> list[int]:
        return [await double(10), await triple(10), await double(10)]

    with TestClient(app) as client:
        assert client.get("/prices").json() == [20, 30, 20]
