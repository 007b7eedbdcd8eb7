"""Caching: values, function results and whole responses, in a `trivium.stores` store.

```python
from trivium import App
from trivium.cache import Cache, CacheRule, cached
from trivium.stores import RedisStore

cache = Cache(RedisStore("redis://localhost:6379/0"))
app = App(plugins=[cache])


@app.get("/articles", cache=CacheRule(60, tags=("articles",)))
async def articles() -> list[dict[str, str]]: ...


@cached(ttl=300, key="profile:{user_id}")
async def profile(user_id: int) -> dict[str, str]: ...
```

Entries are computed once per key across processes (stampede protection), served stale
while recomputed, invalidated by tag, and never shared between users (see docs/cache.md).
"""

from __future__ import annotations

from trivium.cache._plugin import Cache
from trivium.cache._plugin import cached
from trivium.cache._plugin import current_cache
from trivium.cache._responses import CacheRule

__all__ = ["Cache", "CacheRule", "cached", "current_cache"]
