"""Rate limiting: `RateLimit("100/minute", key=by_ip)` on routes, routers and whole apps.

```python
from trivium import App
from trivium.ratelimit import RateLimit, RateLimits
from trivium.stores import RedisStore

app = App(plugins=[RateLimits(RedisStore("redis://localhost:6379/0"), default="100/minute")])


@app.get("/search", rate_limit=RateLimit("10/second"))
async def search(q: str) -> list[str]:
    return []
```

Counters use GCRA, updated atomically: in one Lua script (one round trip) in Redis, shared
exactly by every worker, or in this process's memory. See docs/rate-limiting.md.
"""

from __future__ import annotations

from trivium.ratelimit._limit import Decision
from trivium.ratelimit._limit import KeyFunc
from trivium.ratelimit._limit import RateLimit
from trivium.ratelimit._limit import Usage
from trivium.ratelimit._limit import by_ip
from trivium.ratelimit._limit import by_user
from trivium.ratelimit._limit import parse_rate
from trivium.ratelimit._plugin import RateLimits
from trivium.ratelimit._plugin import RateLimitStep

__all__ = [
    "Decision",
    "KeyFunc",
    "RateLimit",
    "RateLimitStep",
    "RateLimits",
    "Usage",
    "by_ip",
    "by_user",
    "parse_rate",
]
