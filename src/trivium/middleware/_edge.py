"""The edge: the outermost layer of every app, applying one frozen policy.

Every HTTP and websocket connection passes the edge before anything else sees it:

- the `Host` header is checked (`trivium.http._host`): two of them, none in HTTP/1.1, or
  one that is not a plain `host[:port]` is answered 400 before a URL can be built
  from it;
- every response gets the app's default headers (`App(security_headers=...)`) that it
  does not set itself, whoever made it: a route, a middleware (a CORS preflight, a
  trusted-host 400, a CSRF 403, an auth 401) or a mounted app (static files);
- an exception that escapes the middleware is turned into a response once, by the
  app's exception handlers; only an unexpected error (a 500) is re-raised afterwards,
  so the server logs it. An `HTTPException` raised by a middleware is an answer, not
  a failure: it is not re-raised.

The edge holds an `EdgePolicy` built when the app is compiled, never the app itself.
Routes answer their own errors with the same policy (so dependency teardown sees them)
and add the default headers themselves on the fast paths, where the edge adds no layer:
an app without user middleware pays only for the `Host` check.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import logging
import operator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson

from trivium.errors import UNHANDLED_KEY
from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.http._host import host_problem
from trivium.http._request import ClientDisconnect
from trivium.http._request import Request
from trivium.http._response import HTMLResponse
from trivium.http._response import Response
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

__all__ = ["Edge", "EdgePolicy", "error_response", "guarded", "server_error"]

logger = logging.getLogger("trivium.error")
_first = operator.itemgetter(0)
ExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]
RawHeaders = tuple[tuple[bytes, bytes], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class EdgePolicy:
    """What the edge applies to every response, fixed when the app is compiled.

    Args:
        default_headers: header pairs (lower-case names) added to every response that
            does not set them itself.
        exception_handlers: handlers by exception class or status code.
        debug: answer unexpected errors with a traceback page.
        plain_server_errors: answer them with a plain-text 500 (Starlette's body).
        errors_reach_middleware: let unexpected errors reach the user's middleware.
    """

    default_headers: RawHeaders = ()
    exception_handlers: Mapping[Any, ExceptionHandler] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )
    debug: bool = False
    plain_server_errors: bool = False
    """Answer unexpected errors with Starlette's plain-text 500 instead of JSON."""
    errors_reach_middleware: bool = False
    """Routes raise unexpected errors to the user's middleware instead of answering them
    (the app has some); the edge answers what escapes it."""
    default_names: frozenset[bytes] = dataclasses.field(init=False)
    """The names of `default_headers`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "default_names", frozenset(map(_first, self.default_headers)))
        object.__setattr__(
            self, "exception_handlers", MappingProxyType(dict(self.exception_handlers))
        )

    def finalize(self, response: Response) -> Response:
        """Add the default headers that `response` doesn't set itself."""
        self.with_defaults(response.raw_headers)
        return response

    def with_defaults(self, raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """Add to `raw` (and return it) the default headers it doesn't have."""
        defaults = self.default_headers
        if defaults:
            if self.default_names.isdisjoint(map(_first, raw)):
                raw.extend(defaults)  # the usual case, checked without a Python-level loop
            else:
                present = {name for name, _ in raw}
                raw.extend(pair for pair in defaults if pair[0] not in present)
        return raw

    def add_defaults(self, message: Message) -> None:
        """Add the missing default headers to an ASGI `http.response.start` message."""
        if not self.default_headers:
            return
        headers = list(message.get("headers", ()))
        present = {bytes(name).lower() for name, _ in headers}
        missing = [pair for pair in self.default_headers if pair[0] not in present]
        if missing:
            message["headers"] = headers + missing

    async def error_response(self, request: Request, exc: Exception) -> tuple[Response, bool]:
        """Turn `exc` into a response (see `error_response`), default headers included.

        If making that answer fails too (an exception handler that raises, an
        `HTTPException` whose headers can't be sent), the failure is logged and the
        answer is the app's plain 500; `exc` is then re-raised as an unexpected error.
        """
        try:
            response, reraise = await error_response(self, request, exc)
        except Exception as failure:  # logged; the client still gets a 500
            logger.error("answering %s failed", type(exc).__name__, exc_info=failure)
            response, reraise = server_error(self, request, failure), True
        if reraise:  # for the request steps' `after` (tracing): `unhandled_error(scope)`
            request.scope[UNHANDLED_KEY] = exc
        return self.finalize(response), reraise


class Edge:
    """The outermost ASGI layer of an app: see the module docstring.

    Args:
        inner: the user's middleware around the dispatcher.
        policy: the headers and error handling to apply.
        guard: wrap `send` to add default headers and answer escaping errors; needed
            only when something other than trivium's routes makes responses (user
            middleware). Without it the edge checks the `Host` header and calls `inner`.
    """

    __slots__ = ("guard", "inner", "policy")

    def __init__(self, inner: ASGIApp, policy: EdgePolicy, *, guard: bool) -> None:
        self.inner = inner
        self.policy = policy
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the connection's `Host`, then serve it under the policy."""
        kind = scope["type"]
        if kind == "http" or kind == "websocket":
            problem = host_problem(scope)
            if problem is not None:
                await self.refuse(scope, receive, send, problem)
                return
            if self.guard and kind == "http":
                await guarded(self.inner, scope, receive, send, self.policy)
                return
        await self.inner(scope, receive, send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send, problem: str) -> None:
        """Answer a request with a bad `Host` header: 400, or close a websocket with 1008."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "Invalid host"})
            return
        await self.refusal(problem)(scope, receive, send)

    def refusal(self, problem: str) -> Response:
        """Return the 400 answer to a request whose `Host` header has `problem`."""
        return self.policy.finalize(_json({"detail": f"Invalid Host header: {problem}"}, 400))


ANSWERED_BY_PARENT = "trivium.errors_answered_for"
"""The scope key a `Mount` sets to the app it serves through `guarded`: that app may
raise an `HTTPException` before answering, and the parent app's handlers answer it."""


async def guarded(  # noqa: PLR0913 - the connection, what serves it and the error context
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    policy: EdgePolicy,
    error_scope: Scope | None = None,
) -> None:
    """Serve an HTTP request with `app`, adding default headers and answering its errors.

    An exception before the response started is answered through the policy's
    handlers (given a request on `error_scope`, by default `scope`) and re-raised only
    when it is unexpected (a 500); one raised after the response started can't be
    answered and propagates.
    """
    started = False

    async def edge_send(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
            policy.add_defaults(message)
        await send(message)

    try:
        await app(scope, receive, edge_send)
    except Exception as exc:
        if started:
            raise
        request = Request(scope if error_scope is None else error_scope, receive, send)
        response, reraise = await policy.error_response(request, exc)
        await response(scope, receive, send)
        if reraise:
            raise


_ANSWER = "__trivium_answer__"
"""The attribute that keeps, on an exception, the response its catch-all handler gave."""


def _handler_for(policy: EdgePolicy, exc: Exception) -> tuple[Any, bool]:
    """Return the handler for `exc` (or None), and whether it is the catch-all one.

    The catch-all handler is the one registered for `Exception` or `500`: it answers an
    error nothing else expected, which is then re-raised, as with Starlette.
    """
    handlers = policy.exception_handlers
    if not handlers:
        return None, False
    if isinstance(exc, RequestValidationError):
        # As in FastAPI, where it is no `HTTPException`: only its own handler answers it,
        # not one for `HTTPException` or for the status 422.
        for cls in type(exc).__mro__:
            if cls in handlers and issubclass(cls, RequestValidationError):
                return handlers[cls], False
        return None, False
    if isinstance(exc, HTTPException):
        if exc.status_code in handlers:
            return handlers[exc.status_code], False
        # HTTP errors are answers, not failures: a handler registered for `Exception`
        # (meant for unexpected errors) must not swallow every 404 and 422.
        for cls in type(exc).__mro__:
            if cls in handlers and issubclass(cls, HTTPException):
                return handlers[cls], False
        return None, False
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls], cls is Exception
    if 500 in handlers:
        return handlers[500], True
    return None, False


async def error_response(
    policy: EdgePolicy, request: Request, exc: Exception
) -> tuple[Response, bool]:
    """Turn `exc` into a response; the flag says whether the caller must re-raise it.

    Registered handlers win; otherwise HTTP errors become `{"detail": ...}`, validation
    errors a 422 listing every error, and anything else a 500 that hides internals
    (a traceback page in debug mode) and is re-raised so the server logs it (and the
    test client raises it). An error answered by the handler of `Exception` or `500` is
    re-raised too: it is as unexpected as one nothing answers.
    """
    answered: Response | None = getattr(exc, _ANSWER, None)
    if answered is not None:
        # The catch-all handler answered it in the route, and a middleware's `call_next`
        # raised it again: the same answer, without running the handler twice.
        answered.background = None
        return answered, True
    handler, catch_all = _handler_for(policy, exc)
    if handler is not None:
        result = handler(request, exc)
        if inspect.isawaitable(result):
            result = await result
        if catch_all:
            with contextlib.suppress(AttributeError):  # an exception class with __slots__
                setattr(exc, _ANSWER, result)
        return result, catch_all
    if isinstance(exc, RequestValidationError):
        return _json({"detail": exc.errors()}, 422), False
    if isinstance(exc, HTTPException):
        if exc.status_code < 200 or exc.status_code in (204, 304):
            return Response(None, exc.status_code, exc.headers), False
        return _json({"detail": exc.detail}, exc.status_code, exc.headers), False
    if isinstance(exc, ClientDisconnect):
        return Response(None, 400), False
    return server_error(policy, request, exc), True


def server_error(policy: EdgePolicy, request: Request, exc: Exception) -> Response:
    """The 500 of an unexpected error: a traceback page in debug mode, else no details."""
    if policy.debug:
        return _debug_page(request, exc)
    if policy.plain_server_errors:
        return Response("Internal Server Error", 500, media_type="text/plain")
    return _json({"detail": "Internal Server Error"}, 500)


def _json(content: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps(content, default=_lenient)
    return Response(body, status, headers, media_type="application/json")


def _lenient(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json", by_alias=True)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _debug_page(request: Request, exc: Exception) -> Response:
    import html  # only debug pages need these; keeps `import trivium` small
    import traceback

    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    accept = request.headers.get("accept") or ""
    if "text/html" not in accept:
        return _json(
            {"detail": "Internal Server Error", "exception": repr(exc), "traceback": lines}, 500
        )
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>500 Internal Server Error"
        "</title><style>body{font-family:system-ui,sans-serif;margin:2rem}"
        "pre{background:#f6f6f6;padding:1rem;overflow:auto}</style></head><body>"
        f"<h1>{html.escape(type(exc).__name__)}</h1><p>{html.escape(str(exc))}</p>"
        f"<p>{html.escape(request.method)} {html.escape(str(request.url))}</p>"
        f"<pre>{html.escape(''.join(lines))}</pre>"
        "<p>This page is shown because the app runs with <code>debug=True</code>.</p>"
        "</body></html>"
    )
    return HTMLResponse(body, 500)
