"""`RateLimit`: a limit (`"100/minute"`) with the key that says whose budget a request spends.

A limit is GCRA (the generic cell rate algorithm): `N/period` lets a burst of `N`
through and then one request every `period / N` seconds. Its whole state is one
timestamp per key (the "theoretical arrival time"), so a check is one read and one
write, done atomically by the backend (one Lua script in Redis). Unlike a fixed window
it never lets `2N` through around a window boundary, and unlike a sliding log it keeps
no list of requests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple

from trivium.errors import ConfigurationError
from trivium.http import Request
from trivium.http import Response

if TYPE_CHECKING:
    from trivium.http import HTTPConnection

_STR_OR_NONE = (str, type(None))  # built once: `str | None` makes a union per call

_ceil = math.ceil

SCOPE_KEY = "trivium.ratelimit"
"""Where a request's `Decision` is kept in its scope, for the step's `after`."""

__all__ = ["SCOPE_KEY", "Decision", "KeyFunc", "RateLimit", "Usage", "by_ip", "by_user"]

KeyFunc = Callable[["HTTPConnection"], "str | Awaitable[str | None] | None"]
"""Say whose budget a request spends: a string, or `None` to not limit this request."""

_PERIODS = {
    "second": 1.0,
    "sec": 1.0,
    "s": 1.0,
    "minute": 60.0,
    "min": 60.0,
    "m": 60.0,
    "hour": 3600.0,
    "h": 3600.0,
    "day": 86400.0,
    "d": 86400.0,
}
MAX_PERIOD = 366 * 86400.0
"""The longest period of a rate, in seconds: Redis counts in microseconds, within the
integers a double holds exactly (2**53 µs is 285 years)."""

_RATE = re.compile(r"\s*(\d+)\s*(?:/|per)\s*(\d+(?:\.\d+)?)?\s*([a-z]+)\s*", re.ASCII)


def _period(word: str) -> float | None:
    """Seconds in a unit word: `second(s)`, `sec(s)`, `s`, and so on; `None` otherwise.

    A one-letter unit takes no plural `s`: `"ms"` is not minutes (nor milliseconds).
    """
    if word in _PERIODS:
        return _PERIODS[word]
    if word.endswith("s") and len(word) > 2:
        return _PERIODS.get(word[:-1])
    return None


def parse_rate(rate: str) -> tuple[int, float]:
    """Return `(requests, seconds)` for `"100/minute"`, `"5 per 10 seconds"`, `"10/s"`.

    Raises:
        ConfigurationError: `rate` is not such a string (`ratelimit-rate`).
    """
    match = _RATE.fullmatch(rate.lower()) if isinstance(rate, str) else None
    unit = _period(match.group(3)) if match else None
    if match is None or unit is None:
        raise ConfigurationError(
            f"rate limit {rate!r} is not a rate; write it like '100/minute', '5/second', "
            "'1000 per day' or '10 per 30 seconds'",
            "ratelimit-rate",
        )
    count = int(match.group(1))
    multiple = float(match.group(2)) if match.group(2) else 1.0
    if count < 1 or multiple <= 0:
        raise ConfigurationError(
            f"rate limit {rate!r} must allow at least one request per positive period (like '100/minute')",
            "ratelimit-rate",
        )
    seconds = multiple * unit
    if seconds > MAX_PERIOD:
        raise ConfigurationError(
            f"rate limit {rate!r} has a period of more than 366 days, which the Redis "
            "counter cannot hold; give a period of at most '366 days'",
            "ratelimit-rate",
        )
    if count > seconds * 1_000_000:
        raise ConfigurationError(
            f"rate limit {rate!r} allows more than one request per microsecond, the "
            "finest step a limit counts; lower the count or lengthen the period",
            "ratelimit-rate",
        )
    return count, seconds


def _peer(connection: HTTPConnection) -> str:
    try:
        client = connection.client
    except (TypeError, ValueError):  # a server that gave an odd port: the host still counts
        return str(connection.scope["client"][0])
    return "unknown" if client is None else client.host


def by_ip(connection: HTTPConnection) -> str:
    """Key a request by its client address.

    That is the TCP peer, or the address trusted proxies report when the app runs
    `ProxyHeadersMiddleware(trusted_proxies=[...])`: headers from any other peer are
    ignored, so a client cannot pick its own key with `X-Forwarded-For`.
    """
    return "ip:" + _peer(connection)


def by_user(connection: HTTPConnection) -> str:
    """Key a request by its authenticated user's id, an anonymous one by its address.

    Needs `trivium.auth` on the route (a route that takes the user or the request);
    limits keyed this way run after authentication.
    """
    user = connection.scope.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        ident = getattr(user, "id", None)
        if ident is None:
            ident = getattr(user, "pk", None) or getattr(user, "username", None)
        if ident is not None:
            return f"user:{ident}"
    return "ip:" + _peer(connection)


by_user.needs_user = True  # type: ignore[attr-defined]


class Usage(NamedTuple):
    """One limit's state after a check, as the `RateLimit-*` headers report it.

    A named tuple, as `Decision`: one is made for every request, and a frozen
    dataclass's `__init__` took longer than the check's arithmetic.
    """

    limit: RateLimit
    """The limit."""
    remaining: int
    """Requests still allowed right now."""
    reset: float
    """Seconds until the budget is whole again."""
    retry_after: float
    """Seconds until the next request can pass (0 when one can pass now)."""


class Decision(NamedTuple):
    """The outcome of checking a request against all its limits at once."""

    allowed: bool
    """Whether every limit let the request through (then each was charged)."""
    usages: tuple[Usage, ...]
    """Each limit's state, in the order given."""
    combined: bool = False
    """Whether it reports the checks of several steps or dependencies of one request."""

    @property
    def tightest(self) -> Usage:
        """The usage that reports in the headers: a refusing limit, else the fewest left."""
        if len(self.usages) == 1:
            return self.usages[0]
        if not self.allowed:
            return max(self.usages, key=lambda usage: usage.retry_after)
        return min(self.usages, key=lambda usage: (usage.remaining, -usage.reset))

    def combine(self, other: Decision) -> Decision:
        """Return one decision reporting both `self`'s and `other`'s limits."""
        return Decision(self.allowed and other.allowed, self.usages + other.usages, combined=True)

    def headers(self) -> dict[str, str]:
        """The `RateLimit-Limit/Remaining/Reset` headers (and `Retry-After` when refused)."""
        usage = self.tightest
        headers = {
            "ratelimit-limit": str(usage.limit.requests),
            "ratelimit-remaining": str(usage.remaining),
            "ratelimit-reset": str(math.ceil(usage.reset)),
            "ratelimit-policy": ", ".join(u.limit.policy for u in self.usages),
        }
        if not self.allowed:
            headers["retry-after"] = str(max(1, math.ceil(usage.retry_after)))
        return headers

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """`headers()` as the raw pairs a response holds (for an admitted request)."""
        usages = self.usages
        if len(usages) == 1:  # the usual case, without `tightest`
            usage = usages[0]
            limit = usage.limit
            return [
                limit.limit_pair,
                (b"ratelimit-remaining", b"%d" % usage.remaining),
                (b"ratelimit-reset", b"%d" % _ceil(usage.reset)),
                limit.policy_pair,
            ]
        usage = self.tightest
        return [
            usage.limit.limit_pair,
            (b"ratelimit-remaining", b"%d" % usage.remaining),
            (b"ratelimit-reset", b"%d" % _ceil(usage.reset)),
            (b"ratelimit-policy", ", ".join(u.limit.policy for u in usages).encode()),
        ]


class RateLimit:
    """Allow `rate` requests per key (`"100/minute"`), as a route option or a dependency.

    ```python
    @app.get("/search", rate_limit=RateLimit("10/second", key=by_ip))
    async def search(q: str) -> list[str]: ...


    @app.post("/mail", dependencies=[Depends(RateLimit("5/hour", key=by_user))])
    async def mail(user: CurrentUser) -> None: ...
    ```

    Args:
        rate: `"N/second"`, `"N/minute"`, `"N/hour"`, `"N/day"` or `"N per K seconds"`.
        key: whose budget a request spends: `by_ip` (default), `by_user`, or a function
            of the connection (sync or async) returning a string, or `None` to let the
            request through unlimited.
        scope: the name of the budget; limits with the same scope and key share it
            (default: each `RateLimit` object has its own).
        per_message: on a websocket route, count each received message instead of each
            connection.
        cost: how many requests one request counts as.

    Raises:
        ConfigurationError: a bad rate (`ratelimit-rate`) or option (`ratelimit-option`).
    """

    __slots__ = (
        "capacity",
        "cost",
        "interval",
        "key",
        "limit_pair",
        "needs_user",
        "per_message",
        "period",
        "policy",
        "policy_bytes",
        "policy_pair",
        "rate",
        "requests",
        "requests_bytes",
        "scope",
        "script_args",
        "step",
    )

    _counter = 0

    def __init__(
        self,
        rate: str,
        *,
        key: KeyFunc = by_ip,
        scope: str | None = None,
        per_message: bool = False,
        cost: int = 1,
    ) -> None:
        self.requests, self.period = parse_rate(rate)
        if not callable(key):
            raise ConfigurationError(
                f"RateLimit key={key!r} is not callable; use by_ip, by_user or a function "
                "of the request returning a string",
                "ratelimit-option",
            )
        if isinstance(cost, bool) or not isinstance(cost, int) or not 1 <= cost <= self.requests:
            raise ConfigurationError(
                f"RateLimit cost={cost!r} must be an integer from 1 to the limit ({self.requests})",
                "ratelimit-option",
            )
        if scope is None:
            RateLimit._counter += 1
            scope = f"{self.requests}/{self.period:g}#{RateLimit._counter}"
        self.rate = rate
        """The rate as written."""
        self.key = key
        """Whose budget a request spends."""
        self.scope = scope
        """The budget's name, shared by limits of the same scope."""
        self.per_message = per_message
        """Count websocket messages rather than connections."""
        self.cost = cost
        """Requests one request counts as."""
        self.needs_user = bool(getattr(key, "needs_user", False))
        """Whether the key reads the authenticated user (the step then runs after auth)."""
        # GCRA in integer microseconds: one request "costs" `interval`, a burst may
        # run `capacity` ahead of now; capacity is a whole number of intervals so
        # exactly `requests` fit in a burst.
        self.interval = max(1, round(self.period * 1_000_000 / self.requests))
        """Microseconds one request adds to the key's arrival time."""
        self.step = self.interval * cost
        """Microseconds one request (of `cost` requests) adds to the arrival time."""
        self.capacity = self.interval * self.requests
        """How far ahead of now (microseconds) the arrival time may run."""
        self.script_args = f"{self.interval} {self.capacity} {self.cost}".encode()
        """This limit's arguments to the Redis script."""
        self.requests_bytes = str(self.requests).encode()
        self.limit_pair = (b"ratelimit-limit", self.requests_bytes)
        """`requests` as a header value."""
        self.policy = f"{self.requests};w={math.ceil(self.period)}"
        """This limit in the `RateLimit-Policy` header's syntax."""
        self.policy_bytes = self.policy.encode()
        self.policy_pair = (b"ratelimit-policy", self.policy_bytes)
        """`policy` as a header value."""

    def __repr__(self) -> str:
        return f"RateLimit({self.rate!r}, scope={self.scope!r})"

    async def key_of(self, connection: HTTPConnection) -> str | None:
        """Return the budget key of `connection` (`None`: not limited)."""
        value = self.key(connection)
        if not isinstance(value, _STR_OR_NONE):
            value = await value
        return None if value is None else f"{self.scope}:{value}"

    async def __call__(self, request: Request, response: Response) -> None:
        """Check the limit as a dependency: 429 when over, headers on the response otherwise."""
        from trivium.ratelimit._plugin import RateLimits

        plugin = request.app.plugin(RateLimits)
        decision = await plugin.check(request, (self,))
        if decision is None:
            return
        earlier = request.scope.get(SCOPE_KEY)
        if isinstance(earlier, Decision):  # the route's own limits: report the tightest
            decision = earlier.combine(decision)
        request.scope[SCOPE_KEY] = decision
        if not decision.allowed:
            raise plugin.refusal(decision)
        response.headers.update(decision.headers())


def as_limits(value: Any, where: str) -> tuple[RateLimit, ...]:
    """Return a route's `rate_limit` value as a tuple of limits.

    `value` is a `RateLimit`, a rate string, a sequence of them, or `None`/`False` (none).

    Raises:
        ConfigurationError: anything else (`ratelimit-option`).
    """
    if value is None or value is False:
        return ()
    if isinstance(value, RateLimit):
        return (value,)
    if isinstance(value, str):
        return (RateLimit(value),)
    if isinstance(value, list | tuple):
        limits: list[RateLimit] = []
        for item in value:
            limits.extend(as_limits(item, where))
        return tuple(limits)
    raise ConfigurationError(
        f"{where}: rate_limit={value!r} is not a limit; use RateLimit('100/minute'), a "
        "list of them, or False to exempt the route",
        "ratelimit-option",
    )
