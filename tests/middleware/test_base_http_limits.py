"""A body read in `@app.middleware("http")` is held to the app's limits, not the defaults."""

from __future__ import annotations

from trivium import App
from trivium import Request
from trivium.http import Limits
from trivium.middleware import CallNext
from trivium.responses import JSONResponse
from trivium.responses import Response
from trivium.testing import TestClient


def make_client(app: App, *, read: str = "body") -> TestClient:
    @app.middleware("http")
    async def reader(request: Request, call_next: CallNext) -> Response:
        if read == "json":
            await request.json()
        else:
            body = await request.body()
            if request.url.path == "/middleware-only":  # the app's route never runs
                return JSONResponse({"read": len(body)})
        return await call_next(request)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.post("/json")
    async def json_route(request: Request) -> JSONResponse:
        return JSONResponse({"ok": await request.json() is not None})

    return TestClient(app)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_middleware_body_read_is_refused_above_the_app_max_body_size() -> None:
    client = make_client(App(max_body_size=1000))
    response = client.post("/middleware-only", content=b"x" * 5000)
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]
    assert client.post("/middleware-only", content=b"x" * 1000).json() == {"read": 1000}
    assert client.post("/echo", content=b"x" * 1000).json() == {"size": 1000}


def test_middleware_body_read_accepts_what_a_raised_app_limit_allows() -> None:
    client = make_client(App(max_body_size=12_000_000))
    size = 11 * 1024 * 1024  # above the default 10 MiB
    assert client.post("/echo", content=b"x" * size).json() == {"size": size}


def test_middleware_body_read_follows_app_limits_object() -> None:
    client = make_client(App(limits=Limits(max_body_size=2000)))
    assert client.post("/middleware-only", content=b"x" * 3000).status_code == 413


def test_middleware_json_read_follows_the_app_json_depth() -> None:
    deep = nested(300)  # deeper than the default 64
    client = make_client(App(limits=Limits(max_json_depth=500)), read="json")
    assert client.post("/json", content=deep).json() == {"ok": True}
    shallow = make_client(App(limits=Limits(max_json_depth=10)), read="json")
    assert shallow.post("/json", content=nested(20)).status_code == 400
