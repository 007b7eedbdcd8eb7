"""A gate passing values from `before` to `after` with `set_scope_value` / `scope_value`.

On the RSGI pass a gated route's connection keeps such values aside and builds no ASGI
scope; the values must still reach `after` when the answer falls back to the full path
(an error, a 422, a stream), and read the same as over ASGI.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Sequence
from typing import Any

import anyio.lowlevel

from trivium import App
from trivium import Request
from trivium.http import HTTPConnection
from trivium.http import Response
from trivium.plugins import Gate
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.responses import StreamingResponse
from trivium.testing import TestClient


class Stamp(Gate):
    """Notes the peer and the app before the handler; stamps the answer with them."""

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        client = connection.client
        connection.set_scope_value("stamp.peer", client.host if client else "-")
        connection.set_scope_value("stamp.app", type(connection.app).__name__)
        if connection.header_value("x-wait") is not None:
            return self._later(connection)
        return None

    async def _later(self, connection: HTTPConnection) -> None:
        await anyio.lowlevel.checkpoint()
        connection.set_scope_value("stamp.waited", "yes")

    def after(self, connection: HTTPConnection, response: Response | None) -> None:
        if response is None:
            return
        values = [
            connection.scope_value("stamp.peer"),
            connection.scope_value("stamp.app"),
            connection.scope_value("stamp.waited", "no"),
            connection.scope_value("path"),  # one of the scope's own keys
            str(connection.scope_value("stamp.missing")),
        ]
        response.headers["x-stamp"] = " ".join(values)


class Stamps(Plugin):
    route_options = ("stamp",)

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        return [Stamp()] if "stamp" in route.options else []


def stamped_app() -> App:
    app = App(plugins=[Stamps()])
    on = {"stamp": True}

    @app.get("/ok", plugin_options=on)
    async def ok() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/items/{item_id}", plugin_options=on)
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/boom", plugin_options=on)
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/stream", plugin_options=on)
    async def stream() -> StreamingResponse:
        async def chunks() -> Any:
            yield b"a"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/request", plugin_options=on)
    async def takes_request(request: Request) -> dict[str, Any]:
        return {"peer": request.scope_value("stamp.peer"), "host": request.client.host}  # type: ignore[union-attr]

    return app


def test_values_reach_after_on_every_path() -> None:
    with TestClient(stamped_app(), raise_server_exceptions=False) as client:
        seen = client.get("/request").json()
        peer = seen["host"]
        assert seen["peer"] == peer  # the handler reads what the gate set
        for path, status in [
            ("/ok", 200),
            ("/items/7", 200),
            ("/items/seven", 422),
            ("/boom", 500),
            ("/stream", 200),
        ]:
            answer = client.get(path)
            assert answer.status_code == status, path
            assert answer.headers["x-stamp"] == f"{peer} App no {path} None", path
        waited = client.get("/ok", headers={"x-wait": "1"})
        assert waited.headers["x-stamp"] == f"{peer} App yes /ok None"


class Echo(Gate):
    """Reads what a gate may read, then echoes it in a header (the scope gets built)."""

    def before(self, connection: HTTPConnection) -> None:
        connection.state.seen = "yes"
        parts = [
            connection.url.path,
            repr(connection.path_params),
            connection.query_params.get("q", "-"),
            connection.cookies.get("c", "-"),
            connection.headers.get("x-h", "-"),
            str(connection.header_value("x-h")),
        ]
        connection.set_scope_value("echo", " | ".join(parts))

    def after(self, connection: HTTPConnection, response: Response | None) -> None:
        if response is not None:
            response.headers["x-echo"] = (
                f"{connection.scope_value('echo')} | {connection.state.seen}"
            )


class Echoes(Plugin):
    route_options = ("echo",)

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        return [Echo()] if "echo" in route.options else []


def test_a_gate_reads_the_url_parameters_cookies_headers_and_state() -> None:
    app = App(plugins=[Echoes()])

    @app.get("/things/{thing_id}", plugin_options={"echo": True})
    async def thing(thing_id: int, q: str = "") -> dict[str, Any]:
        return {"id": thing_id, "q": q}

    with TestClient(app) as client:
        answer = client.get("/things/5?q=x", headers={"x-h": "v", "cookie": "c=k"})
        assert answer.json() == {"id": 5, "q": "x"}
        assert answer.headers["x-echo"] == "/things/5 | {'thing_id': '5'} | x | k | v | v | yes"
        bare = client.get("/things/6")
        assert bare.headers["x-echo"] == "/things/6 | {'thing_id': '6'} | - | - | - | None | yes"
