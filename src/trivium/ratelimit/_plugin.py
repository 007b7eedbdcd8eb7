"""`RateLimits`: the plugin that enforces `RateLimit`s on routes, routers and the whole app.

A limited route gets one request step. Its `before` checks all the route's limits in one
backend call (refusing with 429 when one is spent) and its `after` writes the
`RateLimit-*` headers on whatever response goes out, 401, 403 and 429 included. The
step runs before authentication (order 150), so refused logins are counted too, unless
a limit is keyed by user: then after it (order 260), and before CSRF.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from pydantic import BaseModel

from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.errors import OutageLog
from trivium.errors import WebSocketException
from trivium.plugins import Gate
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.ratelimit._backend import Backend
from trivium.ratelimit._backend import MemoryBackend
from trivium.ratelimit._backend import RedisBackend
from trivium.ratelimit._limit import _STR_OR_NONE
from trivium.ratelimit._limit import SCOPE_KEY
from trivium.ratelimit._limit import Decision
from trivium.ratelimit._limit import RateLimit
from trivium.ratelimit._limit import as_limits
from trivium.stores import MemoryStore
from trivium.stores import StoreUnavailableError

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.http import HTTPConnection
    from trivium.http import Request
    from trivium.http import Response
    from trivium.stores import RedisStore

__all__ = ["RateLimits"]

logger = logging.getLogger("trivium.ratelimit")

PROBE_EVERY = 1.0
"""During a store outage, seconds between the checks that try the store again."""
_PROBE_LIMIT = 30.0  # how long a probe that never reports back holds the others off


class RateLimits(Plugin):
    """Enforce rate limits: `rate_limit=` on routes and routers, and an app-wide default.

    ```python
    from trivium.ratelimit import RateLimit, RateLimits, by_user
    from trivium.stores import RedisStore

    limits = RateLimits(RedisStore("redis://localhost:6379/0"), default="100/minute")
    app = App(plugins=[limits])


    @app.post("/login", rate_limit=RateLimit("5/minute"))  # instead of the default
    async def login() -> None: ...
    ```

    Args:
        store: where the counters live: a `RedisStore` (shared by every worker; exact
            across them), a `MemoryStore` or `None` (this process only).
        default: the limit(s) of every HTTP route that sets no `rate_limit` of its own
            (a route exempts itself with `rate_limit=False`).
        fail_open: when Redis is unreachable, let requests through unlimited and log
            the outage (the default), or answer 503 with `Retry-After` (`False`).
        prefix: put before every counter's key (after the store's own prefix).

    Raises:
        ConfigurationError: an unsupported store (`ratelimit-store`) or a bad default.
    """

    install_hint: ClassVar[str] = "app.install(RateLimits(store))"
    route_options: ClassVar[tuple[str, ...]] = ("rate_limit",)

    def __init__(
        self,
        store: RedisStore | MemoryStore | str | None = None,
        *,
        default: RateLimit | str | Sequence[RateLimit | str] | None = None,
        fail_open: bool = True,
        prefix: str = "ratelimit:",
    ) -> None:
        self.store = store
        """The store the counters live in (`None`: this process's memory)."""
        self.backend: Backend = _backend(store, prefix)
        """Checks and charges limits atomically."""
        self.default = as_limits(default, "RateLimits(default=...)")
        """The limits of routes that set none."""
        self.fail_open = fail_open
        """Let requests through when the store is unreachable."""
        self._outage_log = OutageLog(logger, "rate limit store", counted="checks without it")
        self._probe_at = 0.0  # during an outage, when the next check may try the store
        self._errors: tuple[type[BaseException], ...] = getattr(self.backend, "errors", ())
        # The memory backend answers without waiting: called directly, no coroutine.
        backend = self.backend
        self._hit_now = backend.hit_now if isinstance(backend, MemoryBackend) else None
        self._hit_one = backend.hit_one if isinstance(backend, MemoryBackend) else None

    def __repr__(self) -> str:
        return f"RateLimits(store={self.store!r}, default={self.default!r})"

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """The limiting step for a route with limits (its own, else the default)."""
        if route.fallback:
            return ()
        where = f"route {route.path!r}"
        if "rate_limit" in route.options:
            limits = as_limits(route.options["rate_limit"], where)
        else:
            limits = () if route.websocket else self.default
        if not limits:
            return ()
        per_message = tuple(limit for limit in limits if limit.per_message)
        if per_message and not route.websocket:
            raise ConfigurationError(
                f"{where}: {per_message[0]!r} counts websocket messages but the route is "
                "not a websocket route; drop per_message=True",
                "ratelimit-option",
            )
        needs_user = any(limit.needs_user for limit in limits)
        if needs_user and not route.takes_connection:
            raise ConfigurationError(
                f"{where}: a limit keyed by user needs the user, which this handler does not "
                "read; take `user: CurrentUser` (or the request), or key the limit by_ip",
                "ratelimit-by-user",
            )
        connection = tuple(limit for limit in limits if not limit.per_message)
        if needs_user:
            return (UserRateLimitStep(self, connection, per_message),)
        if route.websocket:
            return (RateLimitStep(self, connection, per_message),)
        return (RateLimitGate(self, connection, per_message),)

    def lifespan(self, app: App) -> AbstractAsyncContextManager[None] | None:
        """Close the store's connections at shutdown (the client too when given as a URL)."""
        del app
        if isinstance(self.backend, MemoryBackend):
            return None
        return self._closing()

    @asynccontextmanager
    async def _closing(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            self.backend.close()  # type: ignore[attr-defined]
            if isinstance(self.store, str):
                await self.backend.client.aclose()  # type: ignore[attr-defined]

    async def check(
        self, connection: HTTPConnection, limits: Sequence[RateLimit]
    ) -> Decision | None:
        """Check and charge `limits` for `connection` (`None`: nothing was limited).

        Raises:
            StoreUnavailableError: the store is unreachable and `fail_open` is off.
        """
        keyed: Sequence[RateLimit]
        keys: Sequence[str]
        if len(limits) == 1:  # the usual case, without the lists
            value = limits[0].key(connection)
            if not isinstance(value, _STR_OR_NONE):
                value = await value
            if value is None:
                return None
            keyed, keys = limits, (f"{limits[0].scope}:{value}",)
        else:
            keyed, keys = [], []
            for limit in limits:
                value = limit.key(connection)
                if not isinstance(value, _STR_OR_NONE):
                    value = await value
                if value is not None:
                    keyed.append(limit)
                    keys.append(f"{limit.scope}:{value}")
            if not keys:
                return None
        if self._hit_now is not None:
            return self._hit_now(keyed, keys)
        outage = self._outage_log
        if outage.down_since is not None and self._bypassed():
            return self._outage(None)
        try:
            decision = await self.backend.hit(keyed, keys)
        except self._errors as exc:
            self._probe_at = time.monotonic() + PROBE_EVERY
            return self._outage(exc)
        if outage.down_since is not None:
            outage.recovered()
        return decision

    def _bypassed(self) -> bool:
        """Whether to answer without the store: it is down, and another check probes it.

        During an outage one check per `PROBE_EVERY` seconds tries the store; the others
        fail open (or closed) at once, so a stalled Redis costs a request nothing but the
        probe's own wait.
        """
        now = time.monotonic()
        if now >= self._probe_at:
            # No other check probes while this one waits: the next probe time is set when
            # it fails, a bound only in case it ends without a word.
            self._probe_at = now + PROBE_EVERY + _PROBE_LIMIT
            return False
        return True

    def _outage(self, error: BaseException | None) -> Decision | None:
        self._outage_log.failed(
            "rate limit store unreachable, %s until it recovers: %s: %s",
            "letting requests through unlimited" if self.fail_open else "answering 503",
            type(error).__name__,
            error,
        )
        if self.fail_open:
            return None
        raise StoreUnavailableError("the rate limit store is unreachable", retry_after=5) from error

    async def reset(self, connection: HTTPConnection, limits: Sequence[RateLimit]) -> None:
        """Give `connection` its whole budget back on `limits` (after a successful login)."""
        keys = [key for limit in limits if (key := await limit.key_of(connection))]
        await self.backend.reset(keys)

    @staticmethod
    def refusal(decision: Decision) -> HTTPException:
        """The 429 for a refused `decision`, with its headers and what was exceeded."""
        usage = decision.tightest
        headers = decision.headers()
        detail = (
            f"Too many requests: the limit is {usage.limit.requests} per "
            f"{_period(usage.limit.period)}; retry in {headers['retry-after']} s"
        )
        return HTTPException(429, detail, headers=headers)


def _period(seconds: float) -> str:
    for name, length in (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0)):
        if seconds == length:
            return name
    return "second" if seconds == 1 else f"{seconds:g} seconds"


def _backend(store: Any, prefix: str) -> Backend:
    if store is None or isinstance(store, MemoryStore):
        return MemoryBackend()
    if isinstance(store, str):
        from trivium.stores import RedisStore

        if not store.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigurationError(
                f"RateLimits store {store!r} is not a redis:// URL; pass a RedisStore, a "
                "MemoryStore or None",
                "ratelimit-store",
            )
        store = RedisStore(store)
    from trivium.stores import RedisStore

    if isinstance(store, RedisStore):
        return RedisBackend(store.client, store.prefix + prefix)
    raise ConfigurationError(
        f"RateLimits cannot keep counters in {store!r}: use a RedisStore (shared by every "
        "worker) or a MemoryStore (one process)",
        "ratelimit-store",
    )


class RateLimited(BaseModel):
    """The body of a 429: which limit was spent."""

    detail: str


class RateLimitStep(RequestStep):
    """Check a route's limits before authentication; write the headers on the way out."""

    __slots__ = ("hit_now", "key", "limit", "limits", "per_message", "plugin", "prefix")

    order: ClassVar[int] = 150
    __openapi_responses__: ClassVar[dict[int, dict[str, Any]]] = {
        429: {
            "model": RateLimited,
            "description": "Too Many Requests: a rate limit of this route is spent; "
            "`Retry-After` says when to try again",
        }
    }

    def __init__(
        self, plugin: RateLimits, limits: Sequence[RateLimit], per_message: Sequence[RateLimit]
    ) -> None:
        self.plugin = plugin
        """The plugin whose store holds the counters."""
        self.limits = tuple(limits)
        """The limits charged once per request (or websocket connection)."""
        self.per_message = tuple(per_message)
        """The limits charged for each websocket message."""
        one = len(self.limits) == 1 and not self.per_message
        self.hit_now = plugin._hit_one if one else None
        """Charges the route's one limit at once (counted in memory); `None` otherwise."""
        first = self.limits[0] if self.limits else None
        self.limit = first
        """The route's first limit (the one `hit_now` charges)."""
        self.key = None if first is None else first.key
        """The key function of the route's first limit (used with `hit_now`)."""
        self.prefix = "" if first is None else first.scope + ":"
        """What the budget key of the route's first limit starts with."""

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        """Charge the limits; 429 (or a closed websocket) when one is spent.

        A plain function (see `RequestStep`): one limit counted in memory, keyed by a
        function that answers at once, is checked without a coroutine; anything that
        may wait (Redis, an async key, several limits) returns one to await.
        """
        hit_now = self.hit_now
        if hit_now is None:
            return self._before(connection)
        value = self.key(connection)  # type: ignore[misc]
        if value is None:
            return None
        if not isinstance(value, str):
            return self._keyed(connection, hit_now, value)
        decision = hit_now(self.limit, self.prefix + value)  # type: ignore[arg-type]
        connection.set_scope_value(SCOPE_KEY, decision)
        if not decision.allowed:
            raise self.plugin.refusal(decision)
        return None

    async def _keyed(
        self,
        connection: HTTPConnection,
        hit_now: Callable[..., Decision],
        value: Awaitable[str | None],
    ) -> None:
        """`before` for a key function that answered with an awaitable."""
        key = await value
        if key is not None:
            self._record(connection, hit_now(self.limit, self.prefix + key))

    def _record(self, connection: HTTPConnection, decision: Decision) -> None:
        """Keep `decision` for `after`; 429 when it refused the request."""
        connection.set_scope_value(SCOPE_KEY, decision)
        if not decision.allowed:
            raise self.plugin.refusal(decision)

    async def _before(self, connection: HTTPConnection) -> None:
        if self.limits:
            decision = await self.plugin.check(connection, self.limits)
            if decision is not None:
                self._record(connection, decision)
        if self.per_message:
            _limit_messages(connection, self.plugin, self.per_message)

    def after(self, request: Request, response: Response | None) -> None:
        """Write the `RateLimit-*` headers of the request's check on any response.

        A plain function (see `RequestStep`): it never waits.
        """
        decision = request.scope_value(SCOPE_KEY)
        if response is None or not isinstance(decision, Decision):
            return
        if decision.allowed and not decision.combined:
            # The common case, kept cheap: no such header can be on the response yet.
            response.raw_headers += decision.raw_headers()
            if response._headers is not None:
                response._headers._lookup = None
            return
        for name, value in decision.headers().items():
            response.headers[name] = value


class RateLimitGate(RateLimitStep, Gate):
    """The step of HTTP routes whose limits need no user: a `Gate`.

    It reads the address and headers only, so a route limited this way and otherwise
    bare is served on RSGI without a `Request`.
    """

    __slots__ = ()


class UserRateLimitStep(RateLimitStep):
    """The step of routes with a limit keyed by user: after authentication, before CSRF."""

    __slots__ = ()

    order: ClassVar[int] = 260


def _limit_messages(connection: Any, plugin: RateLimits, limits: tuple[RateLimit, ...]) -> None:
    """Charge `limits` for each message the websocket receives; close it with 1008 when spent."""
    receive = connection._receive

    async def limited() -> Any:
        message = await receive()
        if message["type"] == "websocket.receive":
            decision = await plugin.check(connection, limits)
            if decision is not None and not decision.allowed:
                retry = decision.headers()["retry-after"]
                raise WebSocketException(1008, f"rate limit exceeded; retry in {retry} s")
        return message

    connection.receive = limited
