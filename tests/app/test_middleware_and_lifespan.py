from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from trivium import App
from trivium import Request
from trivium import Router
from trivium.middleware import Middleware
from trivium.testing import TestClient


class AddHeader:
    def __init__(self, app: Any, name: str, value: str) -> None:
        self.app = app
        self.header = (name.encode(), value.encode())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], self.header]
            await send(message)

        await self.app(scope, receive, wrapped)


def test_pure_asgi_middleware_wraps_every_response() -> None:
    app = App(middleware=[Middleware(AddHeader, name="x-a", value="1")])
    app.add_middleware(AddHeader, name="x-b", value="2")

    @app.get("/")
    async def index() -> str:
        return "x"

    response = TestClient(app).get("/")
    assert response.headers["x-a"] == "1"
    assert response.headers["x-b"] == "2"
    assert TestClient(app).get("/missing").headers["x-a"] == "1"


def test_lifespan_state_and_hooks() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        events.append("start")
        app.state.ready = True
        yield {"pool": "pool-1"}
        events.append("stop")

    app = App(lifespan=lifespan, on_startup=[lambda: events.append("on_startup")])
    app.on_event("shutdown")(lambda: events.append("on_shutdown"))

    @app.get("/")
    async def index(request: Request) -> dict[str, Any]:
        return {"pool": request.state.pool, "ready": request.app.state.ready}

    with TestClient(app) as client:
        assert client.get("/").json() == {"pool": "pool-1", "ready": True}
        assert events == ["on_startup", "start"]
    assert events == ["on_startup", "start", "stop", "on_shutdown"]


def test_async_generator_lifespan_of_routers_and_mounted_apps() -> None:
    events: list[str] = []

    async def router_life(app: App) -> AsyncIterator[None]:
        events.append("router up")
        yield
        events.append("router down")

    async def child_life(app: App) -> AsyncIterator[None]:
        events.append("child up")
        yield
        events.append("child down")

    router = Router(lifespan=router_life)
    child = App(lifespan=child_life)
    app = App()
    app.include_router(router)
    app.mount("/child", child)
    with TestClient(app):
        assert events == ["router up", "child up"]
    assert events == ["router up", "child up", "child down", "router down"]


def test_failing_startup_is_reported() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        raise RuntimeError("cannot reach database")
        yield

    app = App(lifespan=lifespan)
    with pytest.raises(Exception, match="cannot reach database"):  # noqa: PT011
        with TestClient(app):
            pass
