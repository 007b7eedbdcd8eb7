"""The innermost ASGI app: match the path in the trie and hand over to the route.

Built once by `App.build()`: every route is compiled and inserted into one trie per
connection type. Per request: one trie look-up, then the method, then the route's
`handle`. 404, 405 (with `Allow`), automatic HEAD and OPTIONS, and the trailing-slash
redirect are decided here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import HTTPException
from trivium.errors import TriviumError
from trivium.http._paths import quote_path
from trivium.http._request import Request
from trivium.http._response import RedirectResponse
from trivium.http._response import Response
from trivium.plugins._plugin import RouteNeeds
from trivium.routing._endpoint import settled
from trivium.routing._route import BaseRoute
from trivium.routing._route import Route
from trivium.routing._trie import Trie
from trivium.routing._ws_route import Mount
from trivium.routing._ws_route import WebSocketRoute
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["Dispatcher", "NoMatchFound"]


class NoMatchFound(TriviumError, KeyError):  # noqa: N818 - the name Starlette users know
    """`url_path_for` found no route with that name and those parameters."""


class _Entry:
    __slots__ = ("allow", "methods")

    def __init__(self) -> None:
        self.methods: dict[str, Any] = {}
        self.allow = ""

    def add(self, method: str, route: Any) -> None:
        self.methods.setdefault(method, route)
        names = list(self.methods)
        if "GET" in names and "HEAD" not in names:
            names.append("HEAD")
        if "OPTIONS" not in names:
            names.append("OPTIONS")
        self.allow = ", ".join(names)


def _covers(mount: Mount, path: str) -> bool:
    return path == mount.path or path.startswith(mount.path + "/") or not mount.path


class Dispatcher:
    """Route connections to handlers; see the module docstring."""

    __slots__ = ("after", "app", "before", "http", "mounts", "names", "websocket")

    def __init__(self, app: App) -> None:
        self.app = app
        self.http: Trie[_Entry] = Trie()
        self.websocket: Trie[_Entry] = Trie()
        self.mounts: list[Mount] = []
        self.names: dict[str, list[BaseRoute]] = {}
        for route in app.routes:
            self.add(route)
        # The steps of 404/405 answers (their error pages may show the session's user).
        steps = app.request_steps(RouteNeeds("", (), None, takes_connection=True, fallback=True))
        self.before = tuple(step.before for step in steps if step.runs_before())
        self.after = tuple(step.after for step in reversed(steps) if step.runs_after())

    def add(self, route: BaseRoute) -> None:
        """Compile and serve `route` (at build, or when added to the started app)."""
        if route.name:
            self.names.setdefault(route.name, []).append(route)
        if isinstance(route, Route):
            route.compile(self.app)
            entry = self.http.insert(route.template, _Entry)
            for method in route.methods:
                entry.add(method, route)
        elif isinstance(route, WebSocketRoute):
            route.compile(self.app)
            self.websocket.insert(route.template, _Entry).add("WEBSOCKET", route)
        elif isinstance(route, Mount):
            self.mounts.append(route)
            self.mounts.sort(key=lambda m: len(m.path), reverse=True)  # longest first

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: C901 - the hot path, kept in one frame
        """Dispatch one HTTP or websocket connection."""
        path = scope["path"]
        root = scope.get("root_path")
        if root and path.startswith(root):
            rest = path[len(root) :]
            if not rest:
                path = "/"
            elif rest[0] == "/":  # whole segments: under `/a`, `/about` is not `bout`
                path = rest
        if scope["type"] == "http":
            found = self.http.match(path)
            if found is not None:
                entry, values = found
                method = scope["method"]
                route = entry.methods.get(method)
                if route is None and method == "HEAD":
                    route = entry.methods.get("GET")
                if route is not None:
                    if values:
                        scope["path_params"] = dict(zip(route.template.names, values, strict=True))
                    # What Starlette and FastAPI leave there (metrics middleware reads it).
                    scope["route"] = route
                    scope["endpoint"] = route.endpoint
                    await route.handle(scope, receive, send, self.app)
                    return
                for mount in self.mounts:
                    if mount.fallback and _covers(mount, path):
                        await mount.handle(scope, receive, send, self.app.policy)
                        return
                if method == "OPTIONS":
                    answer = Response(None, 204, {"allow": entry.allow})
                    await self._error(scope, receive, send, None, answer)
                    return
                await self._error(
                    scope, receive, send, HTTPException(405, headers={"Allow": entry.allow})
                )
                return
        elif scope["type"] == "websocket":
            found = self.websocket.match(path)
            if found is not None:
                entry, values = found
                route = entry.methods["WEBSOCKET"]
                if values:
                    scope["path_params"] = dict(zip(route.template.names, values, strict=True))
                scope["route"] = route
                scope["endpoint"] = route.endpoint
                await route.handle(scope, receive, send, self.app)
                return
        else:  # pragma: no cover - unknown connection types are refused
            raise RuntimeError(f"unsupported ASGI scope type {scope['type']!r}")
        for mount in self.mounts:
            if _covers(mount, path):
                await mount.handle(scope, receive, send, self.app.policy)
                return
        await self._not_found(scope, receive, send, path)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000, "reason": "Not Found"})
            return
        config = self.app.http_config
        if config.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if self.http.match(other) is not None:
                # The path is decoded: encoded again, `q%3Fx` can't turn into a query.
                location = quote_path(scope.get("root_path", "") + other)
                query = scope.get("query_string", b"").decode("latin-1")
                target = location + ("?" + query if query else "")
                status = config.slash_redirect_status
                if config.slash_redirect_absolute:
                    url = Request(scope, receive, send).url
                    target = str(url.replace(path=location, fragment=""))
                await self.app.policy.finalize(RedirectResponse(target, status))(
                    scope, receive, send
                )
                return
        await self._error(scope, receive, send, HTTPException(404))

    async def _error(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        exc: HTTPException | None,
        answer: Response | None = None,
    ) -> None:
        """Answer `exc` (404, 405), or the ready `answer` (an automatic OPTIONS).

        Through the fallback's request steps: request ID, metrics, the session's user.
        """
        request = Request(scope, receive, send)
        error: Exception | None = exc
        try:
            for step in self.before:
                await settled(step(request))
        except Exception as failure:  # noqa: BLE001 - a step's error (an outage) wins
            error = failure
        if error is None and answer is not None:
            response, reraise = answer, False
        else:
            assert error is not None
            response, reraise = await self.app.error_response(request, error)
        for after in self.after:
            try:
                await settled(after(request, response))
            except Exception as failure:  # noqa: BLE001 - answered like a handler's error
                response, unexpected = await self.app.error_response(request, failure)
                if unexpected:
                    error, reraise = failure, True
        await self.app.policy.finalize(response)(scope, receive, send)
        if reraise and error is not None:
            raise error  # a step's unexpected error: answered, then raised for the server's log

    def url_path_for(self, name: str, params: dict[str, Any]) -> str:
        """Build the path of route `name` (`"mount:child"` reaches into mounted apps)."""
        for route in self.names.get(name, ()):
            if isinstance(route, Mount):
                if set(params) <= {"path"}:
                    return route.path + "/" + str(params.get("path", "")).lstrip("/")
                continue
            if set(params) == set(route.template.names):
                return route.url_path(**params)
        mount_name, sep, child_name = name.partition(":")
        if sep:
            from trivium.app import App

            for route in self.names.get(mount_name, ()):
                if isinstance(route, Mount) and isinstance(route.app, App):
                    return route.path + route.app.url_path_for(child_name, **params)
        raise NoMatchFound(
            f"no route named {name!r} takes parameters {sorted(params)}"
            if name in self.names
            else f"no route named {name!r}"
        )
