"""Observers: plugins that watch every request of a route without taking part in it."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from trivium import App
from trivium import HTTPException
from trivium.background import BackgroundTask
from trivium.http import Response
from trivium.plugins import Observer
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.responses import JSONResponse
from trivium.responses import StreamingResponse
from trivium.testing import TestClient


class Seen(Observer):
    """Records what it saw and stamps its name and the trace header on the response."""

    def __init__(self, name: str, log: list[tuple[str, str, Any, int]], path: str) -> None:
        self.name = name
        self.log = log
        self.path = path

    def start(self, header: Callable[[str], str | None]) -> Any:
        return header("x-trace")

    def finish(self, started: Any, response: Response) -> None:
        self.log.append((self.name, self.path, started, response.status_code))
        response.raw_headers.append((b"x-seen-by", self.name.encode()))


class Watching(Plugin):
    unique = False

    def __init__(self, name: str, log: list[tuple[str, str, Any, int]]) -> None:
        self.name = name
        self.log = log

    def observers(self, route: RouteNeeds) -> Sequence[Observer]:
        return [Seen(self.name, self.log, route.path)]


class Refuse(RequestStep):
    async def before(self, connection: Any) -> None:
        if connection.headers.get("x-refuse"):
            raise HTTPException(403, "refused")


class Refusing(Plugin):
    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        return [Refuse()] if route.path == "/guarded" else []


class Item(BaseModel):
    name: str


def observed_app(log: list[tuple[str, str, Any, int]]) -> tuple[App, list[str]]:
    done: list[str] = []
    app = App(plugins=[Watching("first", log), Watching("second", log), Refusing()])

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {"hello": "world"}

    @app.post("/items/{item_id}")
    async def create(item_id: int, item: Item) -> dict[str, Any]:
        return {"id": item_id, "name": item.name}

    @app.get("/guarded")
    async def guarded() -> str:
        return "in"

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> Any:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/later")
    async def later() -> JSONResponse:
        return JSONResponse({"ok": True}, background=BackgroundTask(done.append, "ran"))

    return app, done


def test_observers_see_every_answer_in_plugin_order_and_may_add_headers() -> None:
    log: list[tuple[str, str, Any, int]] = []
    app, done = observed_app(log)
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = {
            "plain": client.get("/plain", headers={"x-trace": "t1"}),
            "created": client.post("/items/3", json={"name": "kettle"}),
            "invalid": client.post("/items/three", json={"name": "kettle"}),
            "refused": client.get("/guarded", headers={"x-refuse": "1"}),
            "guarded": client.get("/guarded"),
            "boom": client.get("/boom"),
            "stream": client.get("/stream"),
            "later": client.get("/later"),
        }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "plain": 200,
        "created": 200,
        "invalid": 422,
        "refused": 403,
        "guarded": 200,
        "boom": 500,
        "stream": 200,
        "later": 200,
    }
    for answer in answers.values():
        assert answer.headers.get_list("x-seen-by") == ["first", "second"]
        assert answer.headers["x-frame-options"] == "DENY"  # default headers still added
    assert answers["stream"].text == "ab"
    assert done == ["ran"]
    seen = [(path, trace, status) for name, path, trace, status in log if name == "first"]
    assert seen == [
        ("/plain", "t1", 200),
        ("/items/{item_id}", None, 200),
        ("/items/{item_id}", None, 422),
        ("/guarded", None, 403),
        ("/guarded", None, 200),
        ("/boom", None, 500),
        ("/stream", None, 200),
        ("/later", None, 200),
    ]
    assert [name for name, *_ in log[:2]] == ["first", "second"]


def test_an_observer_may_leave_the_response_alone() -> None:
    class Quiet(Observer):
        pass

    class QuietPlugin(Plugin):
        def observers(self, route: RouteNeeds) -> Sequence[Observer]:
            return [Quiet()]

    app = App(plugins=[QuietPlugin()])

    @app.get("/")
    async def index() -> str:
        return "hi"

    with TestClient(app) as client:
        for _ in range(3):  # the same answer, served from the cached header list
            answer = client.get("/")
            assert answer.text == '"hi"'
            assert answer.headers["content-type"] == "application/json"


@pytest.mark.parametrize("value", ["abc", "def"])
def test_per_request_headers_never_leak_between_responses(value: str) -> None:
    class Echo(Observer):
        def start(self, header: Callable[[str], str | None]) -> Any:
            return header("x-value")

        def finish(self, started: Any, response: Response) -> None:
            response.raw_headers.append((b"x-echo", (started or "none").encode()))

    class EchoPlugin(Plugin):
        def observers(self, route: RouteNeeds) -> Sequence[Observer]:
            return [Echo()]

    app = App(plugins=[EchoPlugin()])

    @app.get("/")
    async def index() -> str:
        return "hi"

    with TestClient(app) as client:
        first = client.get("/", headers={"x-value": value})
        second = client.get("/")
    assert first.headers.get_list("x-echo") == [value]
    assert second.headers.get_list("x-echo") == ["none"]


@pytest.mark.parametrize(
    "added",
    [
        [(b"x-frame-options", b"SAMEORIGIN")],
        [(b"x-one", b"1"), (b"x-frame-options", b"SAMEORIGIN")],
        [(b"x-frame-options", b"SAMEORIGIN"), (b"x-two", b"2")],
    ],
)
def test_a_default_header_an_observer_sets_replaces_the_apps(
    added: list[tuple[bytes, bytes]],
) -> None:
    class Framing(Observer):
        def finish(self, started: Any, response: Response) -> None:
            response.raw_headers.extend(added)

    class FramingPlugin(Plugin):
        def observers(self, route: RouteNeeds) -> Sequence[Observer]:
            return [Framing()]

    app = App(plugins=[FramingPlugin()])

    @app.get("/")
    async def index() -> str:
        return "hi"

    with TestClient(app) as client:
        for _ in range(2):  # the second answer comes from the cached header lists
            answer = client.get("/")
            assert answer.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
            assert answer.headers["x-content-type-options"] == "nosniff"
            for name, value in added:
                assert answer.headers.get_list(name.decode()) == [value.decode()]
