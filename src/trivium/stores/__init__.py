"""Key/value stores with expiry, and rate limiting on top of them.

```python
from trivium.stores import MemoryStore, Throttle

store = MemoryStore()  # or RedisStore("redis://localhost:6379/0"), DatabaseStore(db)
throttle = Throttle(store, limit=5, window=60)


async def attempt(username: str) -> bool:
    await store.set(f"seen:{username}", b"1", ttl=3600)
    return (await throttle.hit(f"login:{username}")).allowed
```

`MemoryStore` keeps data in this process only; `RedisStore` (the `redis` extra) and
`DatabaseStore` (the `db` extra) are shared by every worker. `pipelined_channel(client)`
gives a battery that sends one short Redis command per request (a session read, a rate
limit check) a pipelined connection with a redis-py client's settings. The backends are imported on
first use, so `import trivium.stores` loads neither redis nor SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

from trivium.stores._base import Store
from trivium.stores._base import StoreUnavailableError
from trivium.stores._memory import MemoryStore
from trivium.stores._throttle import Throttle
from trivium.stores._throttle import ThrottleResult

if TYPE_CHECKING:
    from trivium.stores._channel import RedisChannel
    from trivium.stores._channel import pipelined_channel
    from trivium.stores._database import DatabaseStore
    from trivium.stores._redis import RedisStore

__all__ = [
    "DatabaseStore",
    "MemoryStore",
    "RedisChannel",
    "RedisStore",
    "Store",
    "StoreUnavailableError",
    "Throttle",
    "ThrottleResult",
    "pipelined_channel",
]

_LAZY = {
    "DatabaseStore": "_database",
    "RedisChannel": "_channel",
    "RedisStore": "_redis",
    "pipelined_channel": "_channel",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trivium.stores' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"trivium.stores.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
