"""`Request.body()` reads the body once, whichever way the receive channel offers it.

On RSGI the server's receive channel can hand over a body of declared length in one
call; a channel that middleware wrapped is streamed through the wrapper, so what the
middleware sees is exactly what the handler reads. Both interfaces run these tests.
"""

from __future__ import annotations

from typing import Annotated
from typing import Any

import pytest

from trivium import App
from trivium import Form
from trivium import Request
from trivium.testing import TestClient


class CountBody:
    """Plain ASGI middleware that wraps `receive` and counts the body bytes it passes on."""

    def __init__(self, app: Any, seen: list[int]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counted() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.seen.append(len(message.get("body", b"")))
            return message

        await self.app(scope, counted, send)


class PassThrough:
    """Plain ASGI middleware that leaves `receive` as it is."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def make_app() -> App:
    app = App()

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        body = await request.body()
        again = await request.body()
        return {"length": len(body), "same": int(body == again)}

    @app.post("/form")
    async def form(title: Annotated[str, Form()]) -> dict[str, str]:
        return {"title": title}

    @app.post("/json")
    async def json_body(request: Request) -> Any:
        return await request.json()

    return app


@pytest.mark.parametrize("middleware", [None, "pass-through"])
def test_body_form_and_json_read_whole(middleware: str | None) -> None:
    app = make_app()
    if middleware:
        app.add_middleware(PassThrough)
    with TestClient(app) as client:
        assert client.post("/raw", content=b"x" * 5000).json() == {"length": 5000, "same": 1}
        assert client.post("/form", data={"title": "é & more"}).json() == {"title": "é & more"}
        assert client.post("/json", json={"a": [1, 2]}).json() == {"a": [1, 2]}


def test_a_wrapped_receive_sees_every_byte_the_handler_reads() -> None:
    seen: list[int] = []
    app = make_app()
    app.add_middleware(CountBody, seen=seen)
    with TestClient(app) as client:
        assert client.post("/raw", content=b"y" * 3000).json() == {"length": 3000, "same": 1}
        assert sum(seen) == 3000
        seen.clear()
        assert client.post("/form", data={"title": "abc"}).json() == {"title": "abc"}
        assert sum(seen) == len(b"title=abc")


def test_a_body_over_the_limit_is_refused_before_it_is_read() -> None:
    app = App(max_body_size=100)

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    with TestClient(app) as client:
        response = client.post("/raw", content=b"z" * 101)
        assert response.status_code == 413
        assert "100 bytes" in response.json()["detail"]
        assert client.post("/raw", content=b"z" * 100).json() == {"length": 100}
