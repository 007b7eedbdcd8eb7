"""A catalogue whose pages and lookups are cached (docs/cache.md).

Run: `trivium run examples.cache.app:app`, or with Redis, shared by every worker:
`CACHE_URL=redis://127.0.0.1:6379/0 trivium run examples.cache.app:app --workers 4`.
"""

from __future__ import annotations

import asyncio
import os

from trivium import App
from trivium.cache import Cache
from trivium.cache import CacheRule
from trivium.cache import cached

PRICES = {"tea": 3.5, "coffee": 4.0}
computed = {"catalogue": 0, "price": 0}  # how often the slow parts ran, for the tests

cache = Cache(os.environ.get("CACHE_URL"), ttl=300, etag=True)
app = App(plugins=[cache])


@app.get("/catalogue", cache=CacheRule(60, vary="accept-language", tags=("catalogue",)))
async def catalogue() -> dict[str, object]:
    """A page that is slow to build: built once a minute, whatever the traffic."""
    computed["catalogue"] += 1
    await asyncio.sleep(0.1)  # a slow query, a template...
    return {"items": sorted(PRICES)}


@cached(ttl=600, key="price:{item}", tags=("catalogue",))
async def price_of(item: str) -> float | None:
    """A lookup shared by every route that needs it."""
    computed["price"] += 1
    await asyncio.sleep(0.05)
    return PRICES.get(item)


@app.get("/prices/{item}")
async def price(item: str) -> dict[str, object]:
    return {"item": item, "price": await price_of(item)}


@app.put("/prices/{item}")
async def set_price(item: str, price: float) -> dict[str, object]:
    """Change a price: every cached page and lookup tagged `catalogue` is rebuilt."""
    PRICES[item] = price
    await cache.invalidate(tags=["catalogue"])
    return {"item": item, "price": price}
