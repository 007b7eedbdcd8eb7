"""`Plugin`: the seam every battery (and any third-party package) plugs into an app with.

A plugin is an object whose hooks the app calls once: `setup` when it is installed
(`App(plugins=[...])` or `app.install(plugin)`), every other hook when the app is built
(at start-up or on the first request). Through the hooks a plugin contributes routes,
dependency providers, per-route request steps, lifespan context, CLI commands, migration
locations, template directories and OpenAPI components. Nothing a hook returns is looked
at again per request: request steps are compiled into each route's plan, and a route
that needs none of them pays nothing.

Plugins find each other through `app.plugin(Cls)` (typed, by class), never by string
keys or by editing each other's state.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.http._request import HTTPConnection
    from trivium.http._request import Request
    from trivium.http._response import Response
    from trivium.routing._route import BaseRoute
    from trivium.routing._router import Router

__all__ = ["Gate", "Plugin", "RequestStep", "RouteNeeds"]


class RouteNeeds:
    """What a route's compiled plan uses, for plugins deciding which steps it needs.

    Built once per route at start-up and handed to `Plugin.request_steps`.
    """

    __slots__ = (
        "dependencies",
        "endpoint",
        "fallback",
        "methods",
        "options",
        "path",
        "takes_connection",
        "websocket",
    )

    def __init__(  # noqa: PLR0913 - one field per need, all but two keyword-only
        self,
        path: str,
        methods: tuple[str, ...],
        endpoint: Callable[..., Any] | None,
        *,
        takes_connection: bool,
        websocket: bool = False,
        fallback: bool = False,
        options: Mapping[str, Any] | None = None,
        dependencies: Sequence[Callable[..., Any]] = (),
    ) -> None:
        self.path = path
        """The route's path template (`/items/{id}`)."""
        self.methods = methods
        """The HTTP methods the route answers (empty for a websocket route)."""
        self.endpoint = endpoint
        """The handler (`None` for the fallback)."""
        self.takes_connection = takes_connection
        """Whether the handler or one of its dependencies takes the `Request` (or
        `WebSocket`): only such a route can read `request.session` or `request.user`."""
        self.websocket = websocket
        """Whether this is a websocket route."""
        self.fallback = fallback
        """Whether these are the needs of the app's own error answers to unmatched
        requests (404, 405), whose pages may show the user: steps that prepare the
        request (session, user) apply, checks that refuse it (CSRF) should not."""
        self.options: Mapping[str, Any] = options or {}
        """The route's plugin options (`cache=`, `rate_limit=`, `mcp=` and the keys of
        `plugin_options=`), merged from its routers; each is claimed by an installed
        plugin's `route_options`."""
        self.dependencies = tuple(dependencies)
        """Every dependency the route runs, once each and after overrides: the app's,
        its routers' and its own `dependencies=[...]`, those of the handler's
        parameters and theirs (a plugin that skips the handler, as a cache hit does,
        must know which checks it would skip)."""

    def __repr__(self) -> str:
        return f"RouteNeeds({self.path!r}, takes_connection={self.takes_connection})"


class _Done:
    """An awaitable that has nothing left to do.

    The base hooks return it, so a subclass's `await super().before(connection)` works
    whether the subclass's own hooks are coroutines or plain functions.
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that ends at once


DONE: Awaitable[None] = _Done()


class RequestStep:
    """Work done around a route's handler, compiled into the route's plan.

    Subclasses override `before` (runs before parameters are extracted; raise an
    `HTTPException` to refuse the request), `after` (runs once the response exists,
    before it is sent, error responses included; add headers here; on a websocket
    route it runs after the handler with `response=None`) or both. A hook left
    as the base's is not called at all. Steps run in plugin order (the first installed
    plugin's `before` runs first and its `after` runs last) on ASGI and RSGI alike.

    A hook that usually has nothing to wait for may be a plain function (`def`): it
    returns `None` when its work is done, or an awaitable the route then awaits to
    finish it. That spares the coroutine a request would otherwise make for it (the
    in-memory rate limit's hooks are written so). Code that calls a step's hooks
    itself must follow the same rule.
    """

    __slots__ = ()

    order: ClassVar[int] = 500
    """Where the step runs among a route's steps: lower runs earlier (`before`) and
    later (`after`). Sessions use 100, rate limits 150 (by user: 260), authentication
    200, the audit trail's actor 250, CSRF 300, the response cache 900 (last; its keeping
    step is -1000, so that its `after` runs last)."""

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        """Prepare or refuse the request (a `Request`, or a `WebSocket` on websocket routes)."""
        del connection
        return DONE

    def after(self, request: Request, response: Response | None) -> Awaitable[None] | None:
        """Adjust the response before it is sent (`None` after a websocket handler)."""
        del request, response
        return DONE

    @classmethod
    def runs_before(cls) -> bool:
        """Whether the class overrides `before`."""
        return cls.before is not RequestStep.before

    @classmethod
    def runs_after(cls) -> bool:
        """Whether the class overrides `after`."""
        return cls.after is not RequestStep.after


class Gate(RequestStep):
    """A request step that decides from the connection alone: cheaper than a plain step.

    A gate promises three things: `before(connection)` reads only what arrived with
    the request (headers, client address, URL, path parameters: never the body); its
    `after(connection, response)` never waits (a plain function returning `None`) and
    only adjusts the response (adding headers, say); both may be handed an
    `HTTPConnection` rather than a `Request`. In return,
    an HTTP route whose request steps are all gates, and whose handler does not take
    the request, is served on RSGI as a bare route is: no `Request`, no receive or send
    channel, no coroutine unless `before` returns one. Everywhere else (ASGI, websocket
    routes, routes with other steps) a gate runs as the `RequestStep` it is, in `order`.
    The rate limit keyed by address is a gate.
    """

    __slots__ = ()


class Observer:
    """Watches a route's requests without taking part in them: IDs, timing, counting.

    Cheaper than a `RequestStep`: no `Request` is built for it and nothing is awaited.
    `start` runs first, with a reader of the request's headers (`header("x-request-id")`
    gives the value or `None`); `finish` runs last, once the response exists (error
    responses included) and just before it is sent, and may add headers to
    `response.raw_headers`. An observer can't refuse a request or read its body: that
    is what steps are for. Observers run on ASGI and RSGI alike, in plugin order.
    """

    __slots__ = ()

    def start(self, header: Callable[[str], str | None]) -> Any:
        """Begin watching a request; return what `finish` needs (a start time, say)."""
        del header

    def finish(self, started: Any, response: Response) -> None:
        """See the response off; `started` is what `start` returned."""


class Plugin:
    """Base class of plugins: override the hooks you need; the others contribute nothing.

    ```python
    class Greeting(Plugin):
        def routes(self, app: App) -> Sequence[Router | BaseRoute]:
            router = Router()
            router.add_route("/hello", hello, ["GET"])
            return [router]
    ```
    """

    unique: ClassVar[bool] = True
    """Whether an app holds at most one plugin of this class (`Database` allows several)."""
    install_hint: ClassVar[str] = ""
    """How to install the plugin, quoted by `app.plugin(cls)` when it is missing."""
    route_options: ClassVar[tuple[str, ...]] = ()
    """The route options this plugin reads (from `RouteNeeds.options` in `request_steps`).

    A route option no installed plugin claims fails at build with `route-option-unclaimed`.
    """

    def setup(self, app: App) -> None:
        """Check the app and other plugins when installed (raise `ConfigurationError`)."""

    def on_build(self, app: App) -> None:
        """Run once when the app is built, in installation order.

        Install here what the plugin stands on (plugins installed here are built after
        it). Another plugin may still be installed by a later `on_build`: read the
        other plugins in `after_build`.
        """

    def after_build(self, app: App) -> None:
        """Run once every plugin's `on_build` has run (those it installed included).

        The set of plugins is final: check or read the others here (raise
        `ConfigurationError`). Installing a plugin here is refused.
        """

    def routes(self, app: App) -> Sequence[Router | BaseRoute]:
        """Return routers and routes to add to the app (at build time)."""
        del app
        return ()

    def providers(self, app: App) -> Mapping[Callable[..., Any], Callable[..., Any]]:
        """Return dependency providers: `{declared dependency: implementation}`.

        Like `app.dependency_overrides`, but the app's own overrides win.
        """
        del app
        return {}

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """Return the steps `route` needs (called once per route at build time)."""
        del route
        return ()

    def observers(self, route: RouteNeeds) -> Sequence[Observer]:
        """Return the observers of `route`'s requests (once per HTTP route, at build time)."""
        del route
        return ()

    def lifespan(self, app: App) -> AbstractAsyncContextManager[Mapping[str, Any] | None] | None:
        """Return a context entered at start-up and left at shutdown (or `None`).

        A mapping it yields seeds `request.state`, as the app's own lifespan does.
        """
        del app
        return None

    def cli_commands(self) -> Sequence[Any]:
        """Return click commands or groups `trivium NAME` runs for the app in `TRIVIUM_APP`.

        Looked up only for names trivium's own commands don't take, so the app is
        imported only when such a command is run.
        """
        return ()

    def migration_folders(self, database: Any) -> Mapping[str, Path]:
        """Return the migration folders (by package name) `database` must apply."""
        del database
        return {}

    def template_directories(self) -> Sequence[Path]:
        """Return template folders searched after the app's own (batteries' templates)."""
        return ()

    def openapi_components(self, app: App) -> Mapping[str, Mapping[str, Any]]:
        """Return OpenAPI components by section (`{"securitySchemes": {...}}`).

        They are merged into the app's document; a security scheme named here wins over
        a dependency's scheme of the same name.
        """
        del app
        return {}
