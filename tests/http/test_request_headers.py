"""`header_value`: one header without building the whole mapping, on both interfaces."""

from __future__ import annotations

from typing import Any

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.testing import TestClient


def make_app() -> App:
    app = App()

    @app.get("/sig")
    async def sig(request: Request) -> dict[str, str | None]:
        return {
            "one": request.header_value("x-signature"),
            "cased": request.header_value("X-Signature"),
            "absent": request.header_value("x-missing"),
            "mapping": request.headers.get("x-signature"),
        }

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        # Reading the mapping first must not change what header_value answers.
        folded = request.headers.get("x-tag")
        return {"first": request.header_value("x-tag"), "folded": folded}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(
            {"one": websocket.header_value("X-Signature"), "absent": websocket.header_value("x-no")}
        )
        await websocket.close()

    return app


def test_header_value_reads_one_header() -> None:
    with TestClient(make_app()) as client:
        body = client.get("/sig", headers={"x-signature": "abc"}).json()
    assert body == {"one": "abc", "cased": "abc", "absent": None, "mapping": "abc"}


def test_a_websocket_reads_one_header() -> None:
    with (
        TestClient(make_app()) as client,
        client.websocket_connect("/ws", headers={"x-signature": "abc"}) as ws,
    ):
        assert ws.receive_json() == {"one": "abc", "absent": None}


class AddTag:
    """Plain ASGI middleware that adds a header to the request's scope."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": [*scope["headers"], (b"x-tag", b"from-middleware")]}
        await self.app(scope, receive, send)


def test_header_value_sees_headers_a_middleware_changed() -> None:
    app = make_app()
    app.add_middleware(AddTag)
    with TestClient(app) as client:
        assert client.post("/echo").json() == {
            "first": "from-middleware",
            "folded": "from-middleware",
        }


def test_header_value_gives_the_first_of_repeated_headers() -> None:
    with TestClient(make_app()) as client:
        response = client.post("/echo", headers=[("x-tag", "a"), ("x-tag", "b")])
    assert response.json() == {"first": "a", "folded": "a, b"}
