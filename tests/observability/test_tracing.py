"""`Observability(tracing=...)`: a server span per request, in the caller's trace, current."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context

from trivium import App
from trivium.observability import Observability
from trivium.testing import TestClient

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


class RecordingSpan(trace.NonRecordingSpan):
    """A span keeping what it was started with; it carries its parent's trace, as a
    span of OpenTelemetry's API alone does."""

    def __init__(
        self, name: str, parent: trace.Span, kind: trace.SpanKind, attributes: Mapping[str, Any]
    ) -> None:
        super().__init__(parent.get_span_context())
        self.name = name
        self.parent = parent
        self.kind = kind
        self.attributes = dict(attributes)
        self.ended = False

    def set_attribute(self, key: str, value: Any) -> None:
        self.attributes[key] = value

    def end(self, end_time: int | None = None) -> None:
        self.ended = True


class RecordingTracer(trace.NoOpTracer):
    """An OpenTelemetry `Tracer` that records the spans it starts."""

    def __init__(self) -> None:
        self.spans: list[RecordingSpan] = []

    def start_span(  # type: ignore[override]
        self,
        name: str,
        context: Context | None = None,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> RecordingSpan:
        span = RecordingSpan(name, trace.get_current_span(context), kind, attributes or {})
        self.spans.append(span)
        return span


def make_app(tracer: Any) -> App:
    app = App(plugins=[Observability(tracing=tracer)])

    @app.get("/items/{id}")
    async def item(id: int) -> dict[str, Any]:
        current = trace.get_current_span()
        return {
            "id": id,
            "trace_id": trace.format_trace_id(current.get_span_context().trace_id),
            "current_is_the_request_span": isinstance(tracer, RecordingTracer)
            and current is tracer.spans[-1],
        }

    @app.get("/nested")
    async def nested() -> None:
        tracer.start_span("load order").end()

    return app


def test_spans_are_server_spans_named_by_route_template() -> None:
    tracer = RecordingTracer()
    with TestClient(make_app(tracer)) as client:
        client.get("/items/5")
        client.get("/items/x")
    route = {"http.route": "/items/{id}", "http.request.method": "GET"}
    server = ("GET /items/{id}", trace.SpanKind.SERVER, True)
    assert [(s.name, s.kind, s.ended) for s in tracer.spans] == [server, server]
    assert [s.attributes for s in tracer.spans] == [
        {**route, "http.response.status_code": 200},
        {**route, "http.response.status_code": 422},
    ]


def test_the_request_span_is_a_child_of_the_incoming_traceparent() -> None:
    tracer = RecordingTracer()
    with TestClient(make_app(tracer)) as client:
        client.get("/items/1", headers={"traceparent": TRACEPARENT})
    parent = tracer.spans[0].parent.get_span_context()
    assert (trace.format_trace_id(parent.trace_id), trace.format_span_id(parent.span_id)) == (
        TRACE_ID,
        PARENT_ID,
    )
    assert parent.is_remote


def test_the_request_span_is_current_in_the_handler() -> None:
    tracer = RecordingTracer()
    with TestClient(make_app(tracer)) as client:
        body = client.get("/items/1", headers={"traceparent": TRACEPARENT}).json()
    assert body["current_is_the_request_span"] is True
    assert body["trace_id"] == TRACE_ID


def test_spans_the_handler_starts_are_children_of_the_request_span() -> None:
    tracer = RecordingTracer()
    with TestClient(make_app(tracer)) as client:
        assert client.get("/nested").status_code == 200
    request_span, child = sorted(tracer.spans, key=lambda span: span.name != "GET /nested")
    assert child.name == "load order"
    assert child.parent is request_span


def test_a_malformed_traceparent_starts_a_new_trace() -> None:
    tracer = RecordingTracer()
    with TestClient(make_app(tracer)) as client:
        for garbage in (
            "garbage",
            f"00-{'z' * 32}-{PARENT_ID}-01",
            f"00-{'0' * 32}-{PARENT_ID}-01",
        ):
            assert client.get("/items/1", headers={"traceparent": garbage}).status_code == 200
    assert [span.parent.get_span_context().is_valid for span in tracer.spans] == [False] * 3


def test_with_the_opentelemetry_api_alone_the_handler_sees_the_callers_trace() -> None:
    with TestClient(make_app(True)) as client:
        body = client.get("/items/1", headers={"traceparent": TRACEPARENT}).json()
    assert body["trace_id"] == TRACE_ID


def test_tracing_true_uses_the_opentelemetry_api() -> None:
    plugin = Observability(tracing=True)
    assert plugin.tracer is not None
    assert isinstance(plugin.tracer, trace.Tracer)
