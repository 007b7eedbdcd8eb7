"""Server spans follow OpenTelemetry's HTTP conventions: 5xx is an error, 4xx is not,
and a request no route matched is named by its method alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.context import Context

from trivium import App
from trivium import HTTPException
from trivium import Response
from trivium.observability import Observability
from trivium.testing import TestClient


class StatusSpan(trace.NonRecordingSpan):
    """A span keeping its name, attributes and status."""

    def __init__(self, name: str, attributes: Mapping[str, Any]) -> None:
        super().__init__(trace.INVALID_SPAN_CONTEXT)
        self.name = name
        self.attributes = dict(attributes)
        self.status = trace.Status(trace.StatusCode.UNSET)
        self.exceptions: list[BaseException] = []

    def record_exception(self, exception: BaseException, *args: Any, **kwargs: Any) -> None:
        self.exceptions.append(exception)

    def set_attribute(self, key: str, value: Any) -> None:
        self.attributes[key] = value

    def set_status(
        self, status: trace.Status | trace.StatusCode, description: str | None = None
    ) -> None:
        assert isinstance(status, trace.Status)
        self.status = status


class StatusTracer(trace.NoOpTracer):
    """An OpenTelemetry `Tracer` that records the spans it starts."""

    def __init__(self) -> None:
        self.spans: list[StatusSpan] = []

    def start_span(  # type: ignore[override]
        self,
        name: str,
        context: Context | None = None,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> StatusSpan:
        span = StatusSpan(name, attributes or {})
        self.spans.append(span)
        return span


def make_app(tracer: StatusTracer) -> App:
    app = App(plugins=[Observability(tracing=tracer)])

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the handler broke")

    @app.get("/unavailable")
    async def unavailable() -> Response:
        return Response("later", status_code=503)

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPException(404)

    @app.get("/items/{id}")
    async def item(id: int) -> int:
        return id

    return app


def _span(path: str, method: str = "GET") -> StatusSpan:
    tracer = StatusTracer()
    with TestClient(make_app(tracer), raise_server_exceptions=False) as client:
        client.request(method, path)
    (span,) = tracer.spans
    return span


def test_a_5xx_answer_marks_the_span_as_an_error() -> None:
    span = _span("/unavailable")
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.attributes["http.response.status_code"] == 503
    assert span.attributes["error.type"] == "503"
    assert span.exceptions == []  # the handler answered 503 itself: no exception


def test_the_exception_behind_a_500_is_recorded_on_the_span() -> None:
    span = _span("/boom")
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.status.description == "RuntimeError: the handler broke"
    assert span.attributes["http.response.status_code"] == 500
    assert span.attributes["error.type"] == "RuntimeError"
    (error,) = span.exceptions
    assert isinstance(error, RuntimeError)
    assert str(error) == "the handler broke"


def test_an_answered_http_error_records_no_exception() -> None:
    assert _span("/missing").exceptions == []


@pytest.mark.parametrize(
    ("path", "status"), [("/missing", 404), ("/items/x", 422), ("/items/1", 200)]
)
def test_a_4xx_or_2xx_answer_leaves_the_span_status_unset(path: str, status: int) -> None:
    span = _span(path)
    assert span.attributes["http.response.status_code"] == status
    assert span.status.status_code is trace.StatusCode.UNSET
    assert "error.type" not in span.attributes


def test_a_request_no_route_matched_is_named_by_its_method_alone() -> None:
    span = _span("/nowhere")
    assert span.name == "GET"
    assert span.attributes == {"http.request.method": "GET", "http.response.status_code": 404}


def test_an_unmatched_method_is_named_by_that_method() -> None:
    span = _span("/items/1", method="DELETE")
    assert (span.name, span.attributes["http.response.status_code"]) == ("DELETE", 405)
    assert "http.route" not in span.attributes


def test_a_matched_route_keeps_its_template_in_the_name() -> None:
    span = _span("/missing")
    assert span.name == "GET /missing"
    assert span.attributes["http.route"] == "/missing"
