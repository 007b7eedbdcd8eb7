"""`Cache`: the plugin that serves `cache=` route options and the app's cache API."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import ClassVar
from typing import ParamSpec
from typing import TypeVar

from trivium.cache._cache import CacheCore
from trivium.cache._cache import _seconds
from trivium.cache._cache import _tags
from trivium.cache._cache import check_async
from trivium.cache._cache import check_key
from trivium.cache._cache import default_name
from trivium.cache._keep import KeepStep
from trivium.cache._responses import CachedResponse
from trivium.cache._responses import ETagStep
from trivium.cache._responses import ResponseStep
from trivium.cache._responses import check_rule
from trivium.errors import ConfigurationError
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.http import Request
    from trivium.http import Response
    from trivium.stores import Store

__all__ = ["Cache", "cached", "current_cache"]

P = ParamSpec("P")
R = TypeVar("R")

_current: list[Cache] = []  # the caches of the apps serving in this process, newest last


class Cache(CacheCore, Plugin):
    """A cache of values and responses in a store, shared by every worker with Redis.

    ```python
    from trivium.cache import Cache, CacheRule
    from trivium.stores import RedisStore

    cache = Cache(RedisStore("redis://localhost:6379/0"), ttl=300)
    app = App(plugins=[cache])


    @app.get("/articles", cache=CacheRule(60, tags=("articles",)))
    async def articles() -> list[dict[str, str]]: ...
    ```

    Args:
        store: where entries live: a store, a Redis URL (a `RedisStore` the plugin
            closes at shutdown), or `None` for a `MemoryStore()` (this process only).
        prefix: put before every key, after the store's own prefix.
        ttl: seconds an entry stays fresh by default.
        stale: seconds an expired entry is still served while one caller recomputes it.
        wait: longest a caller waits for a value another caller is computing, before
            computing it itself (it stops waiting at once if the other caller keeps
            nothing: an error, a response not to keep).
        etag: give every GET route's plain `200` responses an `ETag` and answer `304`
            to a matching `If-None-Match`.

    Raises:
        ConfigurationError: an option out of range (`cache-option`) or a store that is
            not a `trivium.stores` store or a Redis URL (`cache-store`).
    """

    install_hint: ClassVar[str] = "app.install(Cache(store))"
    route_options: ClassVar[tuple[str, ...]] = ("cache",)

    def __init__(  # noqa: PLR0913 - the cache's options, all keyword but the store
        self,
        store: Store | str | None = None,
        *,
        prefix: str = "cache:",
        ttl: float = 300,
        stale: float = 30,
        wait: float = 5,
        etag: bool = False,
    ) -> None:
        super().__init__(store, prefix=prefix, ttl=ttl, stale=stale, wait=wait)
        self.etag = bool(etag)
        """Whether every GET route's plain responses get an `ETag` (and `304`s)."""
        self._credentials: tuple[str, ...] = ()
        self._users = False  # whether `trivium.auth` authenticates the app's requests
        self._plugins: tuple[object, ...] = ()  # the app's plugins (their providers)
        self._guards: tuple[type, ...] = ()  # trivium.auth's guards, when it is installed
        self._etag_step = ETagStep()
        self._keep_step = KeepStep()  # writes the entries of every route's `ResponseStep`

    def setup(self, app: App) -> None:
        """Answer requests found in the cache (the exception `ResponseStep` raises)."""
        app.add_exception_handler(CachedResponse, _send_cached)

    def after_build(self, app: App) -> None:
        """Learn the session cookie's name and whether `trivium.auth` authenticates requests.

        Requests carrying the cookie hold credentials; private entries are keyed by
        the user `Auth` finds.
        """
        from trivium.sessions import Sessions

        self._credentials = tuple(plugin.cookie_name for plugin in app.plugins_of(Sessions))
        # An `Auth` can only be installed once its module is imported: no import here.
        auth = sys.modules.get("trivium.auth")
        self._users = auth is not None and bool(app.plugins_of(auth.Auth))
        self._guards = (auth.Guard,) if auth is not None and self._users else ()
        self._plugins = app.plugins

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """Return the cache's steps for a route: `ResponseStep` and `KeepStep` on `cache=`.

        Other GET routes get an `ETagStep` when the cache gives every route ETags.
        """
        if route.websocket or route.fallback:
            return ()
        value = route.options.get("cache")
        if value is not None and value is not False:
            rule = check_rule(value, route.path)
            if rule.private:
                self._check_private(route)
            if not rule.skip_dependencies:
                self._check_dependencies(route)
            step = ResponseStep(self, rule, route.path, self._credentials)
            return (step, self._keep_step)
        if self.etag and "GET" in route.methods:
            return (self._etag_step,)
        return ()

    def _check_dependencies(self, route: RouteNeeds) -> None:
        """Refuse a cached route running a dependency that a hit would skip.

        Any dependency may be a guard (an API key check raising 403). Exempt: what an
        installed plugin provides (a database session, settings) and `trivium.auth`'s
        guards, which see the user authenticated before the cache, whose shared entries
        are never kept for a request carrying credentials and whose private ones are
        kept per user.
        """
        skipped = [
            dependency
            for dependency in route.dependencies
            if getattr(dependency, "__self__", None) not in self._plugins
            and not isinstance(dependency, self._guards)
        ]
        if skipped:
            name = getattr(skipped[0], "__qualname__", None) or repr(skipped[0])
            raise ConfigurationError(
                f"route {route.path!r} is cached and runs the dependency {name} (from "
                f"dependencies=[...] or a parameter), which a cache hit skips: a guard "
                f"would let anyone read the cached page. Guard it with trivium.auth (Auth, "
                f"CurrentUser, require_*), which runs before the cache and keeps "
                f"private=True entries per user; or, if no dependency is a guard, say so "
                f"with cache=CacheRule(..., skip_dependencies=True)",
                "cache-dependencies",
            )

    def _check_private(self, route: RouteNeeds) -> None:
        """Refuse `private=True` where no authenticated user is known before the cache."""
        problem = None
        if not self._users:
            problem = "install trivium.auth's Auth, which authenticates the request"
        elif not route.takes_connection:
            problem = (
                "this handler never reads the user, so it is not authenticated: take "
                "`user: CurrentUser` (or the request)"
            )
        if problem is not None:
            raise ConfigurationError(
                f"route {route.path!r}: CacheRule(private=True) keeps entries per "
                f"authenticated user; {problem}, or drop private=True",
                "cache-option",
            )

    def lifespan(self, app: App) -> contextlib.AbstractAsyncContextManager[None]:
        """Make this the cache `@cached` functions use while the app serves."""
        del app
        return self._serving()

    @contextlib.asynccontextmanager
    async def _serving(self) -> AsyncIterator[None]:
        _current.append(self)
        try:
            yield None
        finally:
            _current.remove(self)
            if self.owns_store:
                await self.store.close()


async def _send_cached(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CachedResponse)
    return exc.response


def current_cache() -> Cache:
    """Return the `Cache` of the app serving in this process.

    Raises:
        RuntimeError: no app with a `Cache` is serving (outside its lifespan).
    """
    if not _current:
        raise RuntimeError(
            "no Cache is serving: install Cache(...) in the app and call @cached functions "
            "while it runs, or decorate with a cache of your own: @cache.cached(...)"
        )
    return _current[-1]


def cached(
    ttl: float | None = None,
    *,
    key: Callable[..., str] | str | None = None,
    tags: Iterable[str] | str = (),
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Cache an async function's results in the serving app's `Cache`.

    ```python
    @cached(ttl=60, key="user:{user_id}", tags=("users",))
    async def profile(user_id: int) -> dict[str, str]: ...
    ```

    The key is the function's name and a hash of its arguments by default, a format
    string filled with the arguments, or a function of the arguments. Results must be
    JSON values (dicts, lists, strings, numbers, booleans, `None`). Concurrent calls
    with the same key compute once (see `Cache`).

    Raises:
        ConfigurationError: a sync function, a bad `ttl` or tag (`cache-option`), when
            decorating.
    """
    tag_list = _tags(tags)
    seconds = None if ttl is None else _seconds("ttl", ttl)

    def decorate(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        check_async(func)
        check_key(func, key)
        if key is None:
            default_name(func)  # numbered now, in the order of the definitions
        bound: dict[int, Callable[P, Awaitable[R]]] = {}

        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            cache = current_cache()
            call = bound.get(id(cache))
            if call is None:
                call = bound[id(cache)] = cache.cached(seconds, key=key, tags=tag_list)(func)
            return await call(*args, **kwargs)

        return wrapper

    return decorate
