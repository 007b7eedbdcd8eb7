"""`@app.middleware("http")` and `BaseHTTPMiddleware`: dispatch(request, call_next)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest

from trivium import App
from trivium import BackgroundTasks
from trivium import HTTPException
from trivium import Request
from trivium.errors import ConfigurationError
from trivium.middleware import BaseHTTPMiddleware
from trivium.middleware import CallNext
from trivium.responses import JSONResponse
from trivium.responses import Response
from trivium.responses import StreamingResponse
from trivium.testing import TestClient

current = contextvars.ContextVar("current", default="none")


def make_app() -> App:
    app = App()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": current.get()}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPException(404, "nope")

    return app


def test_app_middleware_sees_request_and_changes_headers() -> None:
    app = make_app()
    seen: list[str] = []

    @app.middleware("http")
    async def add_header(request: Request, call_next: CallNext) -> Response:
        seen.append(request.url.path)
        response = await call_next(request)
        response.headers["X-Process-Time"] = "0.1"
        return response

    client = TestClient(app)
    response = client.get("/hello")
    assert response.json() == {"hello": "none"}
    assert response.headers["x-process-time"] == "0.1"
    assert client.get("/missing").status_code == 404
    assert seen == ["/hello", "/missing"]


def test_context_variables_set_in_dispatch_reach_the_handler() -> None:
    app = make_app()

    @app.middleware("http")
    async def set_var(request: Request, call_next: CallNext) -> Response:
        current.set("from-middleware")
        return await call_next(request)

    assert TestClient(app).get("/hello").json() == {"hello": "from-middleware"}


def test_dispatch_may_answer_without_calling_next() -> None:
    app = make_app()

    @app.middleware("http")
    async def guard(request: Request, call_next: CallNext) -> Response:
        if "x-key" not in request.headers:
            return JSONResponse({"detail": "no key"}, 401)
        return await call_next(request)

    client = TestClient(app)
    assert client.get("/hello").status_code == 401
    assert client.get("/hello", headers={"x-key": "1"}).status_code == 200


def test_body_read_in_dispatch_is_replayed_to_the_app() -> None:
    app = make_app()

    @app.middleware("http")
    async def log_body(request: Request, call_next: CallNext) -> Response:
        assert await request.body() == b"12345"
        return await call_next(request)

    assert TestClient(app).post("/echo", content=b"12345").json() == {"size": 5}


def test_subclass_with_dispatch_and_order_of_several() -> None:
    order: list[str] = []

    class Tag(BaseHTTPMiddleware):
        def __init__(self, app: object, name: str) -> None:
            super().__init__(app)  # type: ignore[arg-type]
            self.name = name

        async def dispatch(self, request: Request, call_next: CallNext) -> Response:
            order.append(self.name)
            response = await call_next(request)
            response.headers.append("x-tag", self.name)
            return response

    app = make_app()
    app.add_middleware(Tag, name="inner")
    app.add_middleware(Tag, name="outer")
    response = TestClient(app).get("/hello")
    assert order == ["outer", "inner"]
    assert response.headers.get_list("x-tag") == ["inner", "outer"]


def test_streaming_response_streams_through_call_next() -> None:
    app = App()
    produced: list[int] = []

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def numbers() -> AsyncIterator[bytes]:
            for i in range(3):
                produced.append(i)
                await anyio.lowlevel.checkpoint()
                yield f"{i}\n".encode()

        return StreamingResponse(numbers(), media_type="text/plain")

    chunks_seen_at: list[int] = []

    @app.middleware("http")
    async def observe(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        chunks_seen_at.append(len(produced))
        return response

    with TestClient(app).stream("GET", "/stream") as response:
        assert b"".join(response.iter_bytes()) == b"0\n1\n2\n"
    assert chunks_seen_at[0] < 3  # the body was not produced up front


def test_background_tasks_run_after_the_response() -> None:
    app = App()
    done: list[str] = []

    @app.get("/work")
    async def work(tasks: BackgroundTasks) -> str:
        tasks.add_task(done.append, "task")
        return "ok"

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    assert TestClient(app).get("/work").json() == "ok"
    assert done == ["task"]


def test_unhandled_error_in_the_handler_is_a_500() -> None:
    app = App()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_call_next_raises_the_handlers_unexpected_error_for_dispatch_to_answer() -> None:
    app = App()
    seen: list[str] = []

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("boom")

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPException(404, "nope")

    @app.middleware("http")
    async def catch_errors(request: Request, call_next: CallNext) -> Response:
        try:
            return await call_next(request)
        except Exception as exc:  # noqa: BLE001 - what an error-reporting middleware does
            seen.append(repr(exc))
            return JSONResponse({"error": type(exc).__name__}, status_code=500)

    client = TestClient(app)
    response = client.get("/boom")
    assert (response.status_code, response.json()) == (500, {"error": "ValueError"})
    assert response.headers["x-content-type-options"] == "nosniff"  # the edge's defaults
    assert seen == ["ValueError('boom')"]
    # An HTTP error is an answer, not a failure: call_next returns it.
    assert client.get("/missing").json() == {"detail": "nope"}
    assert seen == ["ValueError('boom')"]


def test_error_raised_in_dispatch_is_a_500() -> None:
    app = make_app()

    @app.middleware("http")
    async def broken(request: Request, call_next: CallNext) -> Response:
        raise RuntimeError("middleware bug")

    response = TestClient(app, raise_server_exceptions=False).get("/hello")
    assert response.status_code == 500


def test_only_http_middleware_kind() -> None:
    with pytest.raises(ConfigurationError, match="only 'http'"):
        App().middleware("websocket")


def test_request_state_set_in_dispatch_reaches_the_handler_and_not_the_next_request() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, str]]:
        yield {"shared": "from lifespan"}

    app = App(lifespan=lifespan)

    @app.middleware("http")
    async def stamp(request: Request, call_next: CallNext) -> Response:
        assert not hasattr(request.state, "request_id")  # nothing left by the last request
        request.state.request_id = request.headers["x-id"]
        return await call_next(request)

    @app.get("/state")
    async def state(request: Request) -> dict[str, str]:
        return {"id": request.state.request_id, "shared": request.state.shared}

    with TestClient(app) as client:
        for ident in ("a", "b"):
            assert client.get("/state", headers={"x-id": ident}).json() == {
                "id": ident,
                "shared": "from lifespan",
            }


def test_the_matched_route_and_endpoint_are_in_the_scope() -> None:
    app = App()

    @app.get("/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict[str, str]:
        return {
            "route": request.scope["route"].path,
            "endpoint": request.scope["endpoint"].__name__,
        }

    @app.middleware("http")
    async def label(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["x-route"] = request.scope["route"].path
        return response

    response = TestClient(app).get("/items/3")
    assert response.json() == {"route": "/items/{item_id}", "endpoint": "item"}
    assert response.headers["x-route"] == "/items/{item_id}"
    # Without middleware (the RSGI direct path when driven over RSGI) too.
    bare = App()
    bare.add_route("/items/{item_id}", item)
    assert TestClient(bare).get("/items/3").json() == {
        "route": "/items/{item_id}",
        "endpoint": "item",
    }
