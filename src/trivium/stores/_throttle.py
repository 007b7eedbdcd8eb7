"""`Throttle`: fixed-window rate limiting on any `Store`.

Time is cut into windows of `window` seconds aligned on the wall clock, so every worker
(on every host with a synchronised clock) agrees on the current window without talking
to each other. Each hit is one atomic `incr` of the counter `throttle:<key>:<window>`,
which expires with its window; `retry_after` is simply the time left in the window.
A fixed window can let up to twice `limit` through around a window boundary; that is
the usual trade for one round trip per hit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from trivium.errors import ConfigurationError
from trivium.stores._base import Store

__all__ = ["Throttle", "ThrottleResult"]


@dataclass(frozen=True, slots=True)
class ThrottleResult:
    """The outcome of one `Throttle.hit`."""

    allowed: bool
    """Whether this hit is within the limit."""
    remaining: int
    """Hits still allowed in the current window."""
    retry_after: float
    """Seconds until the window resets (0 when the hit was allowed and more remain)."""

    @property
    def retry_after_header(self) -> str:
        """`retry_after` rounded up to whole seconds, as a `Retry-After` header wants it."""
        return str(max(1, math.ceil(self.retry_after)))


class Throttle:
    """Allow `limit` hits per key in each window of `window` seconds.

    ```python
    login_throttle = Throttle(store, limit=5, window=300)
    result = await login_throttle.hit(f"login:{username}")
    if not result.allowed:
        raise HTTPException(429, headers={"Retry-After": result.retry_after_header})
    ```

    Args:
        store: where the counters live (share it between workers in production).
        limit: hits allowed per window.
        window: the window's length in seconds.
        prefix: put before each counter's key.

    Raises:
        ConfigurationError: `limit` or `window` is not positive (`throttle-invalid`).
    """

    __slots__ = ("limit", "prefix", "store", "window")

    def __init__(
        self, store: Store, limit: int, window: float, *, prefix: str = "throttle:"
    ) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigurationError(
                f"Throttle limit must be a positive integer, not {limit!r}", "throttle-invalid"
            )
        if (
            isinstance(window, bool)
            or not isinstance(window, int | float)
            or not (0 < window < math.inf)
        ):
            raise ConfigurationError(
                f"Throttle window must be a positive number of seconds, not {window!r}",
                "throttle-invalid",
            )
        self.store = store
        """Where the counters live."""
        self.limit = limit
        """Hits allowed per window."""
        self.window = float(window)
        """The window's length in seconds."""
        self.prefix = prefix
        """Put before each counter's key."""

    def __repr__(self) -> str:
        return f"Throttle(limit={self.limit}, window={self.window:g})"

    def _slot(self, key: str, now: float) -> tuple[str, float]:
        index = math.floor(now / self.window)
        left = (index + 1) * self.window - now
        return f"{self.prefix}{key}:{index}", left

    async def hit(self, key: str) -> ThrottleResult:
        """Count one hit for `key` and say whether it is allowed."""
        name, left = self._slot(key, time.time())
        count = await self.store.incr(name, left + 1.0)
        if count > self.limit:
            return ThrottleResult(allowed=False, remaining=0, retry_after=left)
        remaining = self.limit - count
        return ThrottleResult(
            allowed=True, remaining=remaining, retry_after=0.0 if remaining else left
        )

    async def reset(self, key: str) -> None:
        """Forget the hits of `key` in the current window (e.g. after a successful login)."""
        name, _ = self._slot(key, time.time())
        await self.store.delete(name)
