"""`RequestSpans`: one OpenTelemetry server span per request, in the caller's trace.

The span continues the trace the request came with: its parent is the context the
global propagator (W3C `traceparent` and `baggage` unless the project set another)
extracts from the request's headers, so a request a traced service sent shows up as a
child of that service's span. A missing or malformed `traceparent` starts a new trace.
The span is started with kind `SERVER` and made the current span for the handler and
its dependencies (`trace.get_current_span()`), so the spans they start are its children.

As OpenTelemetry's HTTP conventions say, a request no route matched (a 404, an
automatic 405 or `OPTIONS` answer) gets a span named by its method alone and no
`http.route`; a 5xx answer sets the span's status to `ERROR` and `error.type` to the
status code, a 4xx answer leaves the status unset (the client erred, not the server).
When an unexpected exception caused the 5xx, it is recorded on the span (an `exception`
event with its traceback), `error.type` is its class name and the status description
says what it was.

A tracer passed in while the `opentelemetry` package is not importable (a test double)
gets the bare `start_span(name)` call and is never made current: there is no context
to make it current in.
"""

from __future__ import annotations

import functools
import importlib.util
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from trivium.http import HTTPConnection

__all__ = ["RequestSpans"]

UNMATCHED = "<unmatched>"
"""The template `Observability` gives requests no route matched (its metrics' label)."""


class RequestSpans:
    """Start, make current and end the span of each request (see the module docstring).

    Args:
        tracer: the OpenTelemetry `Tracer` spans are started with.
    """

    __slots__ = (
        "attach",
        "detach",
        "error",
        "error_status",
        "extract",
        "in_context",
        "server",
        "tracer",
    )

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer
        """The tracer spans are started with."""
        if importlib.util.find_spec("opentelemetry") is None:
            self.extract: Any = None
            return
        from opentelemetry import context
        from opentelemetry import propagate
        from opentelemetry import trace

        self.extract = propagate.extract
        self.in_context = trace.set_span_in_context
        self.attach = context.attach
        self.detach = context.detach
        self.server = trace.SpanKind.SERVER
        self.error = trace.Status(trace.StatusCode.ERROR)
        self.error_status = functools.partial(trace.Status, trace.StatusCode.ERROR)

    def start(self, connection: HTTPConnection, name: str, route: str) -> tuple[Any, Any]:
        """Start the request's span and make it current; return what `end` needs."""
        method = connection.scope.get("method", "")
        matched = route != UNMATCHED
        if not matched:
            name = method or name
        if self.extract is None:
            span = self.tracer.start_span(name)
            if matched:
                span.set_attribute("http.route", route)
            return span, None
        parent = self.extract(connection.headers)
        attributes = {"http.request.method": method}
        if matched:
            attributes["http.route"] = route
        span = self.tracer.start_span(name, context=parent, kind=self.server, attributes=attributes)
        return span, self.attach(self.in_context(span, parent))

    def end(self, started: tuple[Any, Any], status: int, error: Exception | None = None) -> None:
        """Record the status, restore the context the request started in, end the span.

        `error` is the unexpected exception a 500 answered (`unhandled_error`), if any.
        """
        span, token = started
        span.set_attribute("http.response.status_code", status)
        if status >= 500 and self.extract is not None:
            if error is None:
                span.set_attribute("error.type", str(status))
                span.set_status(self.error)
            else:
                span.record_exception(error)
                span.set_attribute("error.type", type(error).__qualname__)
                span.set_status(self.error_status(f"{type(error).__name__}: {error}"))
        if token is not None:
            self.detach(token)
        span.end()
