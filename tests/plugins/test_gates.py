"""Gates: request steps that decide from the connection alone, served without a `Request`.

Every test runs over ASGI and, in the RSGI pass, over Granian's interface, where a route
whose steps are all gates takes the cheaper path: the answers must be the same.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Sequence
from typing import Any

import anyio.lowlevel
from pydantic import BaseModel

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium.background import BackgroundTask
from trivium.http import HTTPConnection
from trivium.http import Response
from trivium.plugins import Gate
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.responses import JSONResponse
from trivium.responses import StreamingResponse
from trivium.testing import TestClient


class Ticket(Gate):
    """Refuses a request without `x-ticket`; stamps every answer with how it went."""

    __slots__ = ("log", "name")

    order = 120

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        ticket = connection.header_value("x-ticket")
        self.log.append(f"{self.name} before {connection.url.path} {ticket}")
        if ticket == "wait":
            return self._later(connection)
        if ticket is None:
            raise HTTPException(403, f"{self.name}: no ticket")
        connection.scope[f"ticket.{self.name}"] = ticket
        return None

    async def _later(self, connection: HTTPConnection) -> None:
        await anyio.lowlevel.checkpoint()
        connection.scope[f"ticket.{self.name}"] = "waited"

    def after(self, connection: HTTPConnection, response: Response | None) -> None:
        if response is None:
            return
        self.log.append(f"{self.name} after {response.status_code}")
        seen = connection.scope.get(f"ticket.{self.name}", "-")
        response.headers.append(f"x-{self.name}", seen)


class Counting(RequestStep):
    """A plain step, to mix with gates."""

    order = 130

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def before(self, connection: HTTPConnection) -> None:
        self.log.append("step before")


class Gates(Plugin):
    route_options = ("gates", "with_step")

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        if "gates" not in route.options:
            return []
        steps: list[RequestStep] = [Ticket(name, self.log) for name in route.options["gates"]]
        if route.options.get("with_step"):
            steps.append(Counting(self.log))
        return steps


class Item(BaseModel):
    name: str


def gated_app(log: list[str], done: list[str]) -> App:
    app = App(plugins=[Gates(log)])
    both = {"gates": ["a", "b"]}

    @app.get("/hello", plugin_options={"gates": ["a"]})
    async def hello() -> dict[str, str]:
        log.append("handler")
        return {"hello": "world"}

    @app.post("/items/{item_id}", plugin_options=both, max_body_size=64)
    async def create(item_id: int, item: Item, q: int = 0) -> dict[str, Any]:
        log.append("handler")
        return {"id": item_id, "name": item.name, "q": q}

    @app.get("/boom", plugin_options={"gates": ["a"]})
    async def boom() -> None:
        log.append("handler")
        raise RuntimeError("boom")

    @app.get("/teapot", plugin_options={"gates": ["a"]})
    async def teapot() -> None:
        raise HTTPException(418, "short and stout")

    @app.get("/stream", plugin_options={"gates": ["a"]})
    async def stream() -> StreamingResponse:
        async def chunks() -> Any:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/later", plugin_options={"gates": ["a"]})
    async def later() -> JSONResponse:
        return JSONResponse({"ok": True}, background=BackgroundTask(done.append, "ran"))

    @app.get("/request", plugin_options={"gates": ["a"]})
    async def takes_request(request: Request) -> dict[str, str]:
        return {"ticket": request.scope["ticket.a"]}

    @app.get("/mixed", plugin_options={"gates": ["a"], "with_step": True})
    async def mixed() -> str:
        log.append("handler")
        return "mixed"

    return app


def test_a_gate_admits_refuses_and_stamps_every_answer() -> None:
    log: list[str] = []
    done: list[str] = []
    with TestClient(gated_app(log, done), raise_server_exceptions=False) as client:
        admitted = client.get("/hello", headers={"x-ticket": "t1"})
        assert admitted.status_code == 200
        assert admitted.json() == {"hello": "world"}
        assert admitted.headers["x-a"] == "t1"
        assert admitted.headers["x-frame-options"] == "DENY"  # the app's defaults still added
        assert log == ["a before /hello t1", "handler", "a after 200"]

        log.clear()
        refused = client.get("/hello")
        assert refused.status_code == 403
        assert refused.json() == {"detail": "a: no ticket"}
        assert refused.headers["x-a"] == "-"  # `after` sees refusals too
        assert log == ["a before /hello None", "a after 403"]  # the handler never ran

        head = client.head("/hello", headers={"x-ticket": "t2"})
        assert (head.status_code, head.content, head.headers["x-a"]) == (200, b"", "t2")
        assert head.headers["content-length"] == "17"

        log.clear()
        waited = client.get("/hello", headers={"x-ticket": "wait"})
        assert waited.status_code == 200
        assert waited.headers["x-a"] == "waited"


def test_gates_run_in_order_around_a_handler_with_parameters_and_a_body() -> None:
    log: list[str] = []
    done: list[str] = []
    with TestClient(gated_app(log, done), raise_server_exceptions=False) as client:
        created = client.post("/items/3?q=7", json={"name": "kettle"}, headers={"x-ticket": "t"})
        assert created.status_code == 200
        assert created.json() == {"id": 3, "name": "kettle", "q": 7}
        assert created.headers.get_list("x-b") == ["t"]
        assert created.headers.get_list("x-a") == ["t"]
        assert log == ["a before /items/3 t", "b before /items/3 t", "handler"] + [
            "b after 200",
            "a after 200",
        ]

        log.clear()
        invalid = client.post("/items/three", json={"name": "kettle"}, headers={"x-ticket": "t"})
        assert invalid.status_code == 422
        assert invalid.headers["x-a"] == "t"
        assert log.count("a before /items/three t") == 1  # the gates ran once

        log.clear()
        big = client.post("/items/3", json={"name": "k" * 100}, headers={"x-ticket": "t"})
        assert big.status_code == 413
        assert big.headers["x-a"] == "t"
        assert log.count("a before /items/3 t") == 1
        assert "handler" not in log


def test_errors_streams_and_background_work_behind_a_gate() -> None:
    log: list[str] = []
    done: list[str] = []
    with TestClient(gated_app(log, done), raise_server_exceptions=False) as client:
        boom = client.get("/boom", headers={"x-ticket": "t"})
        assert boom.status_code == 500
        assert boom.headers["x-a"] == "t"
        assert log == ["a before /boom t", "handler", "a after 500"]  # no second run

        teapot = client.get("/teapot", headers={"x-ticket": "t"})
        assert (teapot.status_code, teapot.json()) == (418, {"detail": "short and stout"})
        assert teapot.headers["x-a"] == "t"

        stream = client.get("/stream", headers={"x-ticket": "t"})
        assert (stream.status_code, stream.text) == (200, "ab")
        assert stream.headers["x-a"] == "t"

        later = client.get("/later", headers={"x-ticket": "t"})
        assert later.status_code == 200
        assert later.headers["x-a"] == "t"
        assert done == ["ran"]


def test_a_gate_beside_a_plain_step_or_a_handler_taking_the_request() -> None:
    log: list[str] = []
    done: list[str] = []
    with TestClient(gated_app(log, done)) as client:
        answer = client.get("/request", headers={"x-ticket": "t9"})
        assert answer.json() == {"ticket": "t9"}
        assert answer.headers["x-a"] == "t9"

        log.clear()
        mixed = client.get("/mixed", headers={"x-ticket": "t"})
        assert (mixed.status_code, mixed.json()) == (200, "mixed")
        assert log == ["a before /mixed t", "step before", "handler", "a after 200"]

        log.clear()
        refused = client.get("/mixed")
        assert refused.status_code == 403
        assert "step before" not in log


def test_route_request_steps_lists_the_gates() -> None:
    app = gated_app([], [])
    app.build()
    route = next(r for r in app.routes if getattr(r, "path", "") == "/items/{item_id}")
    assert [type(step).__name__ for step in route.request_steps] == ["Ticket", "Ticket"]
    assert all(isinstance(step, Gate) for step in route.request_steps)
