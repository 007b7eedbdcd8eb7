"""Handlers of `500`/`Exception` answer and re-raise; validation errors keep their own."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable

import pytest

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium.errors import RequestValidationError
from trivium.middleware import BaseHTTPMiddleware
from trivium.middleware import Middleware
from trivium.responses import JSONResponse
from trivium.responses import PlainTextResponse
from trivium.responses import Response
from trivium.testing import TestClient


def crashing_app(key: type[Exception] | int, calls: list[str], **options: object) -> App:
    app = App(**options)  # type: ignore[arg-type]

    async def answer(request: Request, exc: Exception) -> PlainTextResponse:
        calls.append(type(exc).__name__)
        return PlainTextResponse(f"handled {exc}", status_code=500)

    app.add_exception_handler(key, answer)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    return app


@pytest.mark.parametrize("key", [Exception, 500])
def test_a_catch_all_handler_answers_then_the_test_client_raises(
    key: type[Exception] | int,
) -> None:
    calls: list[str] = []
    app = crashing_app(key, calls)
    with pytest.raises(RuntimeError, match="bug"):
        TestClient(app).get("/boom")
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert (response.status_code, response.text) == (500, "handled bug")
    assert calls == ["RuntimeError", "RuntimeError"]


def test_a_handler_of_a_precise_class_answers_for_good() -> None:
    calls: list[str] = []
    app = crashing_app(RuntimeError, calls)
    response = TestClient(app).get("/boom")  # raises nothing
    assert (response.status_code, response.text) == (500, "handled bug")
    assert calls == ["RuntimeError"]


class Recorder(BaseHTTPMiddleware):
    seen: list[str]

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        try:
            return await call_next(request)
        except RuntimeError as exc:
            type(self).seen.append(f"call_next raised {exc}")
            raise


def test_under_a_middleware_the_handler_runs_once_and_call_next_raises() -> None:
    calls: list[str] = []
    Recorder.seen = []
    app = crashing_app(Exception, calls, middleware=[Middleware(Recorder)])
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert (response.status_code, response.text) == (500, "handled bug")
    assert calls == ["RuntimeError"]
    assert Recorder.seen == ["call_next raised bug"]


def validation_app(key: type[Exception] | int) -> App:
    app = App()

    async def custom(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"custom": type(exc).__name__}, status_code=418)

    app.add_exception_handler(key, custom)

    @app.get("/n")
    async def number(x: int) -> int:
        return x

    @app.get("/gone")
    async def gone() -> None:
        raise HTTPException(410, "gone")

    return app


@pytest.mark.parametrize("key", [HTTPException, 422])
def test_an_http_exception_or_422_handler_leaves_validation_errors_alone(
    key: type[Exception] | int,
) -> None:
    client = TestClient(validation_app(key))
    response = client.get("/n?x=a")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "x"]
    gone = client.get("/gone")
    expected = 418 if key is HTTPException else 410
    assert gone.status_code == expected


def test_a_request_validation_error_handler_answers_them() -> None:
    client = TestClient(validation_app(RequestValidationError))
    response = client.get("/n?x=a")
    assert (response.status_code, response.json()) == (418, {"custom": "RequestValidationError"})
    assert client.get("/gone").status_code == 410
