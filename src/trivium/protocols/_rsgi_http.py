"""The RSGI fast path: serve a matched route straight from Granian's scope.

Used when the app has no user middleware. The route is matched on the RSGI scope
itself; a route whose compiled `Endpoint` allows the shortcut (a plain handler, no
dependency context, no form) is then served without building an ASGI scope when
neither it nor a request step takes the `Request`, and through a `Request` on a
lazily completed scope when one does. Its answer, when it
is the usual one (a rendered response, no background work), goes out in one
`response_bytes` call. Everything else (errors, 422s included, streamed responses,
background tasks, dependency graphs) continues on `Route.handle` with the outcome so
far, so the handler never runs twice and behaviour is the same as over ASGI.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from trivium.http._request import HTTPConnection
from trivium.http._request import Request
from trivium.http._response import Response
from trivium.protocols._rsgi import RSGIParams
from trivium.protocols._rsgi import lazy_connection
from trivium.protocols._rsgi import lazy_scope
from trivium.protocols._rsgi import rsgi_send
from trivium.protocols._rsgi import send_finalized
from trivium.protocols._rsgi import with_route
from trivium.protocols._rsgi_body import rsgi_receive
from trivium.protocols._rsgi_gate import GateConnection
from trivium.routing._endpoint import NO_CONTEXT

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.protocols._rsgi import LazyScope
    from trivium.protocols._rsgi import RSGISender
    from trivium.routing._dispatch import Dispatcher
    from trivium.routing._endpoint import Endpoint
    from trivium.routing._route import Route
    from trivium.types import Receive
    from trivium.types import Scope

__all__ = ["http_server"]


def http_server(dispatcher: Dispatcher, app: App) -> Callable[[Any, Any], Awaitable[None]]:
    """Return the RSGI HTTP handler of an app without user middleware."""
    match = dispatcher.http.match
    overrides = app.dependency_overrides

    async def serve(rsgi: Any, protocol: Any) -> None:
        method = rsgi.method
        found = match(rsgi.path)
        if found is not None:
            entry, values = found
            route = entry.methods.get(method)
            if route is None and method == "HEAD":
                route = entry.methods.get("GET")
            if route is not None:
                params = dict(zip(route.template.names, values, strict=True)) if values else None
                endpoint = route._endpoint
                if (
                    endpoint is None
                    or not endpoint.shortcut
                    or endpoint.version != overrides.version
                ):
                    await _continue(route, rsgi, protocol, app, params, None, None)
                elif endpoint.needs_connection:
                    await _serve_stepped(route, endpoint, rsgi, protocol, app, params)
                else:
                    await _serve_plain(route, endpoint, rsgi, protocol, app, params)
                return
        # 404, 405, OPTIONS, mounts and slash redirects: the dispatcher's own path.
        scope, receive, send = lazy_connection(rsgi, protocol, app)
        try:
            await dispatcher(scope, receive, send)
        except BaseException:
            send.abandon()
            raise

    return serve


async def _serve_plain(  # noqa: PLR0913 - the connection and the matched route
    route: Route,
    endpoint: Endpoint,
    rsgi: Any,
    protocol: Any,
    app: App,
    params: dict[str, Any] | None,
) -> None:
    """Serve a plain handler without request steps, from the RSGI scope alone."""
    observer = endpoint.observer
    state = observer.start(rsgi.headers.get) if observer is not None else None
    try:
        if endpoint.needs_request:
            if endpoint.plan.body_mode and not _body_fits(rsgi, endpoint):
                started = None if observer is None else [state]
                await _continue(route, rsgi, protocol, app, params, None, started)
                return
            view = RSGIParams(rsgi, params, protocol, endpoint.limits)
            result = await endpoint.call(view, NO_CONTEXT)
        else:
            result = await endpoint.call(None, NO_CONTEXT)
        outcome: Any = endpoint.serialize(result, NO_CONTEXT)
    except Exception as exc:  # noqa: BLE001 - answered by `handle`
        outcome = exc
    else:
        if outcome.background is None and type(outcome).__call__ is Response.__call__:
            fixed = None
            if observer is not None:
                fixed = len(outcome.raw_headers)
                observer.finish(state, outcome)
            send_finalized(protocol, outcome, rsgi.method == "HEAD", app, fixed)
            return
    started = None if observer is None else [state]
    await _continue(route, rsgi, protocol, app, params, outcome, started)


async def _serve_stepped(  # noqa: C901, PLR0913 - the hot path of routes with steps, inline
    route: Route,
    endpoint: Endpoint,
    rsgi: Any,
    protocol: Any,
    app: App,
    params: dict[str, Any] | None,
) -> None:
    """Serve a plain handler with request steps or taking the request, on a lazy scope.

    The steps and the handler get one `Request` on a lazily completed scope; when the
    steps are all gates and the handler takes no connection (`endpoint.gated`), the
    steps get an `HTTPConnection` and the handler its parameters alone, and a `Request`
    is made only if something goes wrong. Anything unusual (an error, a streamed
    response, background work) continues on `handle` with that request.
    """
    observer = endpoint.observer
    started = None if observer is None else [observer.start(rsgi.headers.get)]
    gated = endpoint.gated
    if gated and endpoint.plan.body_mode and not _body_fits(rsgi, endpoint):
        await _continue(route, rsgi, protocol, app, params, None, started)
        return
    request: Request | None = None
    connection: HTTPConnection
    if gated:
        connection = GateConnection(rsgi, app, route, params)
    else:
        scope = with_route(lazy_scope(rsgi, app), route, params)
        connection = request = _request(scope, rsgi, protocol, endpoint)
    try:
        for step in endpoint.before:
            waiting = step(connection)  # a plain-function hook answers None when done
            if waiting is not None:
                await waiting
        if not gated:
            result = await endpoint.call(request, NO_CONTEXT)
        elif endpoint.analysis.fields:
            view = RSGIParams(rsgi, params, protocol, endpoint.limits)
            result = await endpoint.call(view, NO_CONTEXT)
        else:
            result = await endpoint.call(None, NO_CONTEXT)
        response = endpoint.serialize(result, NO_CONTEXT)
    except Exception as exc:  # noqa: BLE001 - answered by `handle`, steps included
        response = exc
    else:
        if response.background is None and type(response).__call__ is Response.__call__:
            # `_finishing` (routing/_route.py) inline: its own coroutine costs ~0.2 us on
            # every request of a route with steps, and this is their hot path.
            fixed: int | None = len(response.raw_headers)
            late = None
            for after in endpoint.after:
                try:
                    waiting = after(connection, response)
                    if waiting is not None:
                        await waiting
                except Exception as exc:  # noqa: BLE001 - answered like a handler's error
                    if request is None:
                        request = _request(connection.scope, rsgi, protocol, endpoint)
                    response, reraise = await app.error_response(request, exc)
                    fixed = None
                    if reraise:
                        late = exc
            if started:
                observer.finish(started[0], response)
            send_finalized(protocol, response, rsgi.method == "HEAD", app, fixed)
            if late is not None:
                raise late  # answered with a 500 already; raised so the server logs it
            return
    if request is None:
        request = _request(connection.scope, rsgi, protocol, endpoint)
    send = request.send
    await _handled(route, request.scope, request.receive, send, app, response, request, started)  # type: ignore[arg-type]


def _request(scope: Scope, rsgi: Any, protocol: Any, endpoint: Endpoint) -> Request:
    """The `Request` over `scope` (a gated route makes one only when it turns out needed)."""
    receive = rsgi_receive(protocol, rsgi)
    send = rsgi_send(protocol, rsgi.method == "HEAD")
    return Request(scope, receive, send, limits=endpoint.limits)


def _body_fits(rsgi: Any, endpoint: Endpoint) -> bool:
    """Whether the body's declared length is there and within the route's limit."""
    declared = rsgi.headers.get("content-length")
    if declared is None or not (declared.isascii() and declared.isdigit()):
        return False
    limit = endpoint.limits.max_body_size
    return limit is None or int(declared) <= limit


async def _continue(  # noqa: PLR0913 - the connection and what it has seen
    route: Route,
    rsgi: Any,
    protocol: Any,
    app: App,
    params: dict[str, Any] | None,
    outcome: Any,
    started: list[Any] | None,
) -> None:
    """Serve the rest on `Route.handle`, over a lazily completed scope."""
    scope, receive, send = lazy_connection(rsgi, protocol, app)
    await _handled(
        route, with_route(scope, route, params), receive, send, app, outcome, None, started
    )


async def _handled(  # noqa: PLR0913 - what `Route.handle` takes
    route: Route,
    scope: LazyScope,
    receive: Receive,
    send: RSGISender,
    app: App,
    outcome: Any,
    request: Request | None,
    started: list[Any] | None,
) -> None:
    """`route.handle(...)`, ending the response's stream at once if the app fails."""
    try:
        await route.handle(scope, receive, send, app, outcome, request, started)
    except BaseException:
        send.abandon()
        raise
