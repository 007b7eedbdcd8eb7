"""`trivium.errors.unhandled_error`: the exception behind a 500, for a step's `after`."""

from __future__ import annotations

from typing import Any

import pytest

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium.errors import unhandled_error
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.responses import JSONResponse
from trivium.testing import TestClient


class ReportErrors(RequestStep):
    def __init__(self, reported: list[tuple[str, Any]]) -> None:
        self.reported = reported

    def after(self, request: Request, response: Any) -> None:
        self.reported.append((request.url.path, unhandled_error(request.scope)))


class ErrorReporting(Plugin):
    def __init__(self) -> None:
        self.reported: list[tuple[str, Any]] = []

    def request_steps(self, route: RouteNeeds) -> list[RequestStep]:
        return [ReportErrors(self.reported)]


class Teapot(Exception):
    pass


def make_app() -> tuple[App, ErrorReporting]:
    reporting = ErrorReporting()
    app = App(plugins=[reporting])

    @app.exception_handler(Teapot)
    async def teapot(request: Request, exc: Teapot) -> JSONResponse:
        return JSONResponse({"detail": "short and stout"}, status_code=418)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the handler broke")

    @app.get("/teapot")
    async def brew() -> None:
        raise Teapot

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPException(404, "no such thing")

    @app.get("/items/{id}")
    async def item(id: int) -> int:
        return id

    return app, reporting


def test_the_500s_exception_reaches_the_step() -> None:
    app, reporting = make_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/boom").status_code == 500
    ((path, error),) = reporting.reported
    assert path == "/boom"
    assert isinstance(error, RuntimeError)
    assert str(error) == "the handler broke"


def test_the_test_client_still_raises_it() -> None:
    app, reporting = make_app()
    with TestClient(app) as client, pytest.raises(RuntimeError, match="the handler broke"):
        client.get("/boom")
    assert isinstance(reporting.reported[0][1], RuntimeError)


@pytest.mark.parametrize(
    ("path", "status"), [("/teapot", 418), ("/missing", 404), ("/items/x", 422), ("/items/1", 200)]
)
def test_expected_answers_have_no_unhandled_error(path: str, status: int) -> None:
    app, reporting = make_app()
    with TestClient(app) as client:
        assert client.get(path).status_code == status
    assert reporting.reported == [(path, None)]
