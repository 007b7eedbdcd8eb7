"""Websocket routes and mounts: the other two kinds of entries in a route table.

A `WebSocketRoute` compiles its handler's extraction plan and request steps once, like
`Route`, then accepts, serves and closes one connection per call; a `Mount` hands every
path under its prefix to another ASGI app with `root_path` and `path` adjusted.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from trivium.di._depends import Depends
from trivium.di._solver import RequestContext
from trivium.di._solver import run_steps
from trivium.di._solver import teardown
from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.errors import WebSocketException
from trivium.http._paths import under_root
from trivium.middleware._edge import ANSWERED_BY_PARENT
from trivium.middleware._edge import EdgePolicy
from trivium.middleware._edge import guarded
from trivium.plugins._plugin import RouteNeeds
from trivium.routing._endpoint import WebSocketEndpoint
from trivium.routing._endpoint import settled
from trivium.routing._route import CONNECTION_SPECIALS
from trivium.routing._route import BaseRoute
from trivium.routing._route import CompiledRoute
from trivium.types import ASGIApp
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from trivium.app import App


__all__ = ["Mount", "WebSocketRoute"]


class WebSocketRoute(CompiledRoute[WebSocketEndpoint]):
    """A websocket route."""

    __slots__ = ("dependencies", "endpoint", "plugin_options")

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        dependencies: Sequence[Depends] = (),
        plugin_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(path, name or getattr(endpoint, "__name__", None))
        self.endpoint = endpoint
        self.dependencies = list(dependencies)
        self.plugin_options: dict[str, Any] = dict(plugin_options or {})
        """The route's options for plugins (`rate_limit` and `plugin_options` keys)."""
        self._endpoint: WebSocketEndpoint | None = None

    def compile(self, app: App) -> WebSocketEndpoint:
        """Build the route's `WebSocketEndpoint` for `app` and serve with it (start-up)."""
        from trivium.params._analysis import analyse
        from trivium.params._plan import Plan

        analysis = analyse(
            self.endpoint,
            path_names=set(self.template.names),
            dependencies=(*app.app_dependencies, *self.dependencies),
            overrides=app.effective_overrides(),
            websocket=True,
        )
        name = getattr(self.endpoint, "__qualname__", self.path)
        needs = RouteNeeds(
            self.path,
            (),
            self.endpoint,
            takes_connection=bool(analysis.specials & CONNECTION_SPECIALS),
            websocket=True,
            options=self.plugin_options,
            dependencies=analysis.dependency_calls,
        )
        steps = tuple(app.request_steps(needs))
        self._endpoint = endpoint = WebSocketEndpoint(
            after=tuple(step.after for step in reversed(steps) if step.runs_after()),
            analysis=analysis,
            before=tuple(step.before for step in steps if step.runs_before()),
            plan=Plan(analysis, name.replace(".", "_").replace("<", "").replace(">", "")),
            request_steps=steps,
            steps=analysis.steps,
            version=app.dependency_overrides.version,
        )
        return endpoint

    async def handle(self, scope: Scope, receive: Receive, send: Send, app: App) -> None:
        """Serve one websocket connection."""
        from trivium.http._websocket import WebSocket
        from trivium.http._websocket import WebSocketDisconnect
        from trivium.http._websocket import WebSocketState

        endpoint = self.current(app)
        websocket = WebSocket(scope, receive, send)
        ctx = RequestContext(websocket, app.app_scope)
        error: Exception | None = None
        try:
            for step in endpoint.before:
                await settled(step(websocket))
            values = await endpoint.plan.extract(websocket)
            await run_steps(endpoint.steps, values, ctx)
            if websocket.application_state is WebSocketState.CONNECTED:
                # The handler returned without closing: finish the handshake politely.
                await websocket.close(1000)
        except WebSocketDisconnect as exc:
            error = exc
            if app.http_config.websocket_disconnect_escapes:
                raise  # FastAPI's test client then raises it when the session ends
        except (WebSocketException, HTTPException) as exc:
            error = exc
            code, reason = _close_for(exc)
            if websocket.application_state is not WebSocketState.DISCONNECTED:
                await websocket.close(code, reason)
        except Exception as exc:
            error = exc
            if websocket.application_state is not WebSocketState.DISCONNECTED:
                await websocket.close(1011, "Internal error")
            raise
        finally:
            if ctx.function_stack or ctx.request_stack:
                await _close(ctx, error, app)
        for after in endpoint.after:
            await settled(after(websocket, None))


async def _close(ctx: RequestContext, error: Exception | None, app: App) -> None:
    """Tear the dependencies down, function scope first, throwing the handler's error in.

    As in FastAPI, a generator dependency sees the error the connection ended with (a
    disconnect too) at its `yield`; a new error raised by a teardown is logged.
    """
    thrown: BaseException | None = error
    leftover: BaseException | None = None
    for stack in (ctx.function_stack, ctx.request_stack):
        if stack:
            leftover = await teardown(stack, thrown, ctx.limiter)
            if leftover is not None:
                thrown = leftover  # the request scope sees what the function scope raised
    if leftover is not None and leftover is not error:
        if not isinstance(leftover, Exception):
            raise leftover  # a cancellation, say: not a dependency's failure
        app.log_teardown_error(leftover)


def _close_for(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, WebSocketException):
        return exc.code, _reason(exc.reason)
    if isinstance(exc, RequestValidationError):
        return 1008, _reason(
            "Invalid parameters: "
            + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        )
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status in (503, 504):
        # A service the handler needs is down or slow (a `ChannelsUnavailableError`, a
        # database timeout): 1013 Try Again Later, so the client reconnects with backoff.
        return 1013, _reason(str(exc.detail))
    if status >= 500:
        return 1011, _reason(str(exc.detail))
    return 1008, _reason(str(exc.detail))  # the client's fault: a policy violation


def _reason(text: str) -> str:
    # A close frame carries at most 123 bytes of UTF-8 reason.
    data = text.encode()
    if len(data) <= 123:
        return text
    return data[:120].decode(errors="ignore") + "..."


class Mount(BaseRoute):
    """An ASGI application (another trivium app, static files, a WSGI bridge) under a prefix."""

    __slots__ = ("app", "fallback")

    def __init__(
        self, path: str, app: ASGIApp, name: str | None = None, *, fallback: bool = False
    ) -> None:
        path = "/" + path.strip("/") if path.strip("/") else ""
        super().__init__(path or "/", name)
        self.path = path
        self.app = app
        self.fallback = fallback
        """Also take the methods that routes under the prefix don't answer (instead of 405)."""

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, policy: EdgePolicy | None = None
    ) -> None:
        """Pass the request to the mounted app with `root_path` extended by the prefix.

        With the parent app's `policy`, HTTP responses of the mounted app (static files,
        another framework's app) get the parent's default headers, and an error it
        raises before answering is answered by the parent's exception handlers.
        """
        materialize = getattr(scope, "materialize", None)
        child = materialize() if materialize is not None else dict(scope)
        root = scope.get("root_path", "")
        child["root_path"] = root + self.path
        if root and under_root(child["path"], root) is None:
            # The app's own root_path (`--root-path` on Granian): the server's path leaves
            # it out, but a mounted app strips its root_path from a path that includes it,
            # as the ASGI spec has it (a2wsgi, another app, Starlette's).
            child["path"] = root + child["path"]
        child.pop("app", None)
        if policy is not None and child["type"] == "http":
            child[ANSWERED_BY_PARENT] = self.app
            await guarded(self.app, child, receive, send, policy, scope)
            return
        await self.app(child, receive, send)
