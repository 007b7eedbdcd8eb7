"""`Route.compile` returns an immutable `Endpoint` whose call strategy is chosen once.

Served the way users serve it (the test client, on the interface of the run, plus the
RSGI transport where the shortcut matters), and checked for what the endpoint says
about each handler shape: plain handlers skip the dependency context, graphs and
deadlines don't, and a dependency override compiles a new endpoint instead of
editing the one in use.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from typing import Any

import pytest
from pydantic import BaseModel

from trivium import App
from trivium import Depends
from trivium import Request
from trivium import WebSocket
from trivium.http import Limits
from trivium.http import Response
from trivium.routing import Route
from trivium.routing import Router
from trivium.routing import WebSocketRoute
from trivium.routing._endpoint import Endpoint
from trivium.routing._endpoint import WebSocketEndpoint
from trivium.testing import TestClient
from trivium.testing._client import INTERFACE_ENV


class Item(BaseModel):
    name: str


def one() -> int:
    return 1


def make_app() -> App:
    app = App()

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {"shape": "bare"}

    @app.get("/items/{item_id}")
    async def item(item_id: int, q: str = "") -> dict[str, Any]:
        return {"id": item_id, "q": q}

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.get("/graph")
    async def graph(n: Annotated[int, Depends(one)]) -> dict[str, int]:
        return {"n": n}

    @app.get("/sync")
    def sync(q: str = "s") -> dict[str, str]:
        return {"q": q}

    @app.post("/form")
    async def form(request: Request) -> dict[str, str]:
        data = await request.form()
        return {"name": str(data["name"])}

    @app.get("/mine/{item_id}")
    async def mine(item_id: int, request: Request, q: str = "") -> dict[str, Any]:
        return {"id": item_id, "q": q, "path": request.url.path, "raw": request.query_params["q"]}

    @app.get("/tagged")
    async def tagged(request: Request, response: Response) -> dict[str, str]:
        response.headers["x-tag"] = "yes"
        return {"path": request.url.path}

    @app.get("/slow", limits=Limits(timeout=0.05))
    async def slow() -> dict[str, str]:
        await asyncio.sleep(1)
        return {"never": "here"}

    return app


def endpoint_of(app: App, path: str, method: str = "GET") -> Endpoint:
    app.build()
    for route in app.routes:
        if isinstance(route, Route) and route.path == path and method in route.methods:
            assert route.compiled is not None
            return route.compiled
    raise AssertionError(f"no route {method} {path}")


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
def test_each_handler_shape_is_served_by_its_strategy(
    interface: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(INTERFACE_ENV, interface)
    with TestClient(make_app()) as client:
        assert client.get("/bare").json() == {"shape": "bare"}
        assert client.get("/items/5?q=a").json() == {"id": 5, "q": "a"}
        assert client.post("/items", json={"name": "x"}).json() == {"name": "x"}
        assert client.get("/graph").json() == {"n": 1}
        assert client.get("/sync?q=z").json() == {"q": "z"}
        assert client.post("/form", data={"name": "f"}).json() == {"name": "f"}
        # The request itself, with and without request values beside it.
        mine = client.get("/mine/7?q=b")
        assert mine.json() == {"id": 7, "q": "b", "path": "/mine/7", "raw": "b"}
        tagged = client.get("/tagged")
        assert (tagged.json(), tagged.headers["x-tag"]) == ({"path": "/tagged"}, "yes")
        # The failure cases of each strategy.
        wrong = client.get("/items/five")
        assert wrong.status_code == 422
        assert wrong.json()["detail"][0]["loc"] == ["path", "item_id"]
        assert client.post("/items", json={"nom": "x"}).status_code == 422
        mistaken = client.get("/mine/seven")
        assert mistaken.status_code == 422
        assert mistaken.json()["detail"][0]["loc"] == ["path", "item_id"]
        late = client.get("/slow")
        assert late.status_code == 503
        assert "longer than 0.05 seconds" in late.json()["detail"]


def test_what_the_endpoint_records_for_each_shape() -> None:
    app = make_app()
    bare = endpoint_of(app, "/bare")
    assert bare.plain
    assert bare.shortcut
    assert not bare.needs_request
    item = endpoint_of(app, "/items/{item_id}")
    assert item.plain
    assert item.shortcut
    assert item.needs_request
    graph = endpoint_of(app, "/graph")
    assert not graph.plain
    assert not graph.shortcut
    assert not endpoint_of(app, "/sync").plain
    form = endpoint_of(app, "/form", "POST")
    # Taking the request is direct too: the protocol builds the `Request` for the call.
    assert form.plain
    assert form.shortcut
    assert form.needs_connection
    assert not item.needs_connection
    mine = endpoint_of(app, "/mine/{item_id}")
    assert mine.plain
    assert mine.needs_connection
    tagged = endpoint_of(app, "/tagged")
    assert not tagged.plain  # the response to edit lives in a request context
    slow = endpoint_of(app, "/slow")
    assert not slow.plain  # a deadline runs the graph under a timer
    assert slow.limits.timeout == 0.05


def test_an_endpoint_cannot_be_changed() -> None:
    endpoint = endpoint_of(make_app(), "/bare")
    with pytest.raises(AttributeError, match="immutable"):
        endpoint.plain = False
    with pytest.raises(AttributeError, match="immutable"):
        del endpoint.limits
    with pytest.raises(TypeError, match="missing"):
        Endpoint(plain=True)


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
def test_an_override_compiles_a_new_endpoint_and_leaves_the_old_one_whole(
    interface: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(INTERFACE_ENV, interface)
    app = make_app()
    before = endpoint_of(app, "/graph")
    with TestClient(app) as client:
        assert client.get("/graph").json() == {"n": 1}
        app.dependency_overrides[one] = lambda: 2
        assert client.get("/graph").json() == {"n": 2}
        after = endpoint_of(app, "/graph")
        assert after is not before
        assert before.version < after.version
        app.dependency_overrides.clear()
        assert client.get("/graph").json() == {"n": 1}
    assert before.call is not after.call


def test_a_route_class_that_overrides_handle_is_always_served_through_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(INTERFACE_ENV, "rsgi")
    seen: list[str] = []

    class Counted(Route):
        __slots__ = ()

        async def handle(self, scope: Any, receive: Any, send: Any, app: Any, *args: Any) -> None:
            seen.append(scope["path"])
            await super().handle(scope, receive, send, app, *args)

    router = Router(route_class=Counted)

    @router.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    app = App()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/hello").json() == {"hello": "world"}
        assert client.get("/hello").json() == {"hello": "world"}
    assert seen == ["/hello", "/hello"]
    assert endpoint_of(app, "/hello").shortcut is False


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
def test_a_websocket_route_compiles_an_immutable_endpoint_too(
    interface: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(INTERFACE_ENV, interface)
    app = App()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket, n: Annotated[int, Depends(one)]) -> None:
        await websocket.accept()
        text = await websocket.receive_text()
        await websocket.send_text(f"{text}:{n}")

    with TestClient(app) as client:
        with client.websocket_connect("/echo") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "hi:1"
        route = next(r for r in app.routes if isinstance(r, WebSocketRoute))
        first = route.compiled
        assert isinstance(first, WebSocketEndpoint)
        assert route.plan is first.plan
        with pytest.raises(AttributeError, match="immutable"):
            first.before = ()
        app.dependency_overrides[one] = lambda: 7
        with client.websocket_connect("/echo") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "hi:7"
        assert route.compiled is not first


def test_a_sync_handler_past_the_deadline_is_answered_503_without_waiting_for_it() -> None:
    import threading
    import time

    release = threading.Event()
    app = App(limits=Limits(timeout=0.2))

    @app.get("/sync")
    def slow() -> str:
        release.wait(5)  # a thread can't be stopped: it is left to finish
        return "finished"

    with TestClient(app) as client:
        started = time.monotonic()
        answer = client.get("/sync")
        elapsed = time.monotonic() - started
        release.set()
    assert answer.status_code == 503
    assert answer.json() == {"detail": "The request took longer than 0.2 seconds"}
    assert elapsed < 2


@pytest.mark.parametrize("value", ["5", float("nan"), float("inf"), True, 0, -1])
def test_a_timeout_that_is_no_positive_number_of_seconds_is_refused(value: object) -> None:
    from trivium.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        Limits(timeout=value)  # type: ignore[arg-type]
    assert caught.value.code == "limits-invalid"
