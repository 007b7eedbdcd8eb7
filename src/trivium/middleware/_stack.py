"""The middleware stack and the error responses.

The stack is composed once: an outer guard that turns an exception escaping the
middleware into a 500, the user's pure ASGI middleware (first listed is outermost), and
the dispatcher. Errors raised inside handlers never reach the guard: the route turns
them into responses with `error_response` so that dependency teardown sees them.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import orjson

from trivium.errors import HTTPException
from trivium.errors import RequestValidationError
from trivium.http._request import ClientDisconnect
from trivium.http._request import Request
from trivium.http._response import HTMLResponse
from trivium.http._response import Response
from trivium.types import ASGIApp
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["Middleware", "build_stack", "error_response"]

logger = logging.getLogger("trivium.error")


class Middleware:
    """A middleware class and the options to build it with: `Middleware(CORSMiddleware, ...)`."""

    __slots__ = ("args", "cls", "kwargs")

    def __init__(self, cls: Any, *args: Any, **kwargs: Any) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def build(self, app: ASGIApp) -> ASGIApp:
        """Instantiate the middleware around `app`."""
        return self.cls(app, *self.args, **self.kwargs)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Middleware({getattr(self.cls, '__name__', self.cls)})"


def build_stack(app: App, inner: ASGIApp, middleware: Sequence[Middleware]) -> ASGIApp:
    """Compose `middleware` around `inner`, inside a guard that answers 500 on escape."""
    stack = inner
    for item in reversed(middleware):
        stack = item.build(stack)
    if not middleware:
        return stack
    return _Guard(app, stack)


class _Guard:
    __slots__ = ("app", "inner")

    def __init__(self, app: App, inner: ASGIApp) -> None:
        self.app = app
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.inner(scope, receive, guarded_send)
        except Exception as exc:
            if started:
                raise
            response, reraise = await error_response(self.app, Request(scope, receive, send), exc)
            await self.app.finalize(response)(scope, receive, send)
            if reraise:  # an HTTP error (a 503 from a session store) is an answer, not a failure
                raise


def _handler_for(app: App, exc: Exception) -> Any:
    handlers = app.exception_handlers
    if not handlers:
        return None
    if isinstance(exc, HTTPException):
        if exc.status_code in handlers:
            return handlers[exc.status_code]
        # HTTP errors are answers, not failures: a handler registered for `Exception`
        # (meant for unexpected errors) must not swallow every 404 and 422.
        for cls in type(exc).__mro__:
            if cls in handlers and issubclass(cls, HTTPException):
                return handlers[cls]
        return None
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    if not isinstance(exc, HTTPException) and 500 in handlers:
        return handlers[500]
    return None


async def error_response(app: App, request: Request, exc: Exception) -> tuple[Response, bool]:
    """Turn `exc` into a response; the flag says whether the caller must re-raise it.

    Registered handlers win; otherwise HTTP errors become `{"detail": ...}`, validation
    errors a 422 listing every error, and anything else a 500 that hides internals
    (a traceback page in debug mode) and is re-raised so the server logs it.
    """
    handler = _handler_for(app, exc)
    if handler is not None:
        result = handler(request, exc)
        if inspect.isawaitable(result):
            result = await result
        return result, False
    if isinstance(exc, RequestValidationError):
        return _json({"detail": exc.errors()}, 422), False
    if isinstance(exc, HTTPException):
        if exc.status_code < 200 or exc.status_code in (204, 304):
            return Response(None, exc.status_code, exc.headers), False
        return _json({"detail": exc.detail}, exc.status_code, exc.headers), False
    if isinstance(exc, ClientDisconnect):
        return Response(None, 400), False
    if app.debug:
        return _debug_page(request, exc), True
    return _json({"detail": "Internal Server Error"}, 500), True


def _json(content: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps(content, default=_lenient)
    return Response(body, status, headers, media_type="application/json")


def _lenient(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
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
