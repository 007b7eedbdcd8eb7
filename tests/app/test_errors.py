from __future__ import annotations

import pytest

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium import RequestValidationError
from trivium.responses import JSONResponse
from trivium.responses import PlainTextResponse
from trivium.testing import TestClient


class OutOfStockError(Exception):
    def __init__(self, sku: str) -> None:
        self.sku = sku


def test_http_exception_detail_and_headers() -> None:
    app = App()

    @app.get("/")
    async def index() -> None:
        raise HTTPException(401, {"reason": "expired"}, headers={"WWW-Authenticate": "Bearer"})

    response = TestClient(app).get("/")
    assert response.status_code == 401
    assert response.json() == {"detail": {"reason": "expired"}}
    assert response.headers["www-authenticate"] == "Bearer"


def test_handler_by_exception_class() -> None:
    app = App()

    @app.exception_handler(OutOfStockError)
    async def out_of_stock(request: Request, exc: OutOfStockError) -> JSONResponse:
        return JSONResponse({"error": "out_of_stock", "sku": exc.sku}, status_code=409)

    @app.get("/buy/{sku}")
    async def buy(sku: str) -> None:
        raise OutOfStockError(sku)

    response = TestClient(app).get("/buy/x1")
    assert response.status_code == 409
    assert response.json() == {"error": "out_of_stock", "sku": "x1"}


def test_handler_by_status_code_covers_router_404() -> None:
    app = App()

    @app.exception_handler(404)
    def not_found(request: Request, exc: HTTPException) -> PlainTextResponse:
        return PlainTextResponse(f"nothing at {request.url.path}", status_code=404)

    response = TestClient(app).get("/nowhere")
    assert response.status_code == 404
    assert response.text == "nothing at /nowhere"


def test_validation_error_handler_can_be_replaced() -> None:
    app = App()

    @app.exception_handler(RequestValidationError)
    async def flat(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"errors": len(exc.errors())}, status_code=400)

    @app.get("/")
    async def index(a: int, b: int) -> int:
        return a + b

    response = TestClient(app).get("/?a=x")
    assert response.status_code == 400
    assert response.json() == {"errors": 2}


def test_unhandled_error_is_generic_500_in_production() -> None:
    app = App()

    @app.get("/")
    async def index() -> None:
        raise RuntimeError("database password is hunter2")

    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert "hunter2" not in response.text


def test_unhandled_error_propagates_to_the_server() -> None:
    app = App()

    @app.get("/")
    async def index() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        TestClient(app).get("/")


def test_debug_mode_shows_a_traceback_page() -> None:
    app = App(debug=True)

    @app.get("/")
    async def index() -> None:
        raise ValueError("visible <here>")

    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/", headers={"accept": "text/html"})
    assert page.status_code == 500
    assert "text/html" in page.headers["content-type"]
    assert "visible &lt;here&gt;" in page.text
    assert "Traceback" in page.text
    data = client.get("/").json()
    assert data["exception"] == "ValueError('visible <here>')"


def test_error_in_middleware_becomes_500() -> None:
    class Broken:
        def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
            self.app = app

        async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
            if scope["type"] == "http":
                raise RuntimeError("middleware failed")
            await self.app(scope, receive, send)

    app = App()
    app.add_middleware(Broken)

    @app.get("/")
    async def index() -> str:
        return "x"

    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_body_over_the_limit_is_413() -> None:
    app = App(max_body_size=10)

    @app.post("/")
    async def index(request: Request) -> int:
        return len(await request.body())

    @app.post("/big", max_body_size=100)
    async def big(request: Request) -> int:
        return len(await request.body())

    client = TestClient(app)
    response = client.post("/", content=b"x" * 11)
    assert response.status_code == 413
    assert "10 bytes" in response.json()["detail"]
    assert client.post("/", content=b"x" * 10).json() == 10
    assert client.post("/big", content=b"x" * 50).json() == 50


def test_exception_handler_for_exception_leaves_http_errors_alone() -> None:
    app = App()

    @app.exception_handler(Exception)
    async def oops(request: Request, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("oops", status_code=500)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("x")

    @app.get("/int")
    async def number(n: int) -> int:
        return n

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/boom").text == "oops"
    assert client.get("/missing").json() == {"detail": "Not Found"}
    assert client.get("/int?n=x").status_code == 422


def test_depends_without_annotation_fails_at_start_up() -> None:
    from trivium import Depends
    from trivium.errors import ConfigurationError

    app = App()

    @app.get("/")
    async def index(value=Depends()) -> None:  # type: ignore[no-untyped-def]  # noqa: ANN001
        return None

    with pytest.raises(ConfigurationError, match="Depends"):
        app.build()


def test_slow_handler_past_the_timeout_is_503() -> None:
    import anyio

    from trivium.http import Limits

    app = App()

    @app.get("/slow", limits=Limits(timeout=0.05))
    async def slow() -> str:
        await anyio.sleep(2)
        return "late"

    @app.get("/fast", limits=Limits(timeout=1))
    async def fast() -> str:
        return "ok"

    client = TestClient(app)
    response = client.get("/slow")
    assert response.status_code == 503
    assert "0.05 seconds" in response.json()["detail"]
    assert client.get("/fast").json() == "ok"


def test_router_limits_apply_to_its_routes() -> None:
    from trivium import Router
    from trivium.http import Limits

    router = Router(prefix="/up", limits=Limits(max_body_size=5))

    @router.post("")
    async def up(request: Request) -> int:
        return len(await request.body())

    app = App()
    app.include_router(router)

    @app.post("/other")
    async def other(request: Request) -> int:
        return len(await request.body())

    client = TestClient(app)
    assert client.post("/up", content=b"123456").status_code == 413
    assert client.post("/other", content=b"123456").json() == 6


class _HandlerBugError(Exception):
    pass


@pytest.mark.parametrize("middleware", [False, True])
def test_an_answer_that_cannot_be_made_is_the_apps_500(
    middleware: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # An exception handler that raises, or an HTTPException whose header holds CR/LF:
    # the edge's JSON 500 with the default headers (not the server's bare one), logged.
    app = App()
    if middleware:

        @app.middleware("http")
        async def passing(request: Request, call_next):  # type: ignore[no-untyped-def]
            return await call_next(request)

    @app.exception_handler(_HandlerBugError)
    async def broken(request: Request, exc: _HandlerBugError) -> JSONResponse:
        raise RuntimeError("the handler itself has a bug")

    @app.get("/handler")
    async def handler() -> None:
        raise _HandlerBugError

    @app.get("/header")
    async def header() -> None:
        raise HTTPException(401, "login", headers={"www-authenticate": "Bearer\r\nx-injected: 1"})

    client = TestClient(app, raise_server_exceptions=False)
    for path in ("/handler", "/header"):
        answer = client.get(path)
        assert answer.status_code == 500, path
        assert answer.json() == {"detail": "Internal Server Error"}
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "x-injected" not in answer.headers
    assert "the handler itself has a bug" in caplog.text
