"""Route options read by plugins: `cache=`, `rate_limit=`, `mcp=` and `plugin_options=`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from trivium import App
from trivium import Request
from trivium import Router
from trivium.background import BackgroundTask
from trivium.errors import ConfigurationError
from trivium.http import Response
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.responses import JSONResponse
from trivium.responses import StreamingResponse
from trivium.testing import TestClient


class Stamp(RequestStep):
    def __init__(self, value: Any) -> None:
        self.value = value

    async def after(self, request: Request, response: Response | None) -> None:
        assert response is not None
        response.headers["x-stamp"] = repr(self.value)


class Stamper(Plugin):
    """Stamps the value of a route's `stamp` plugin option on its responses."""

    route_options = ("stamp", "cache")

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, Any]] = {}

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        self.seen[route.path] = dict(route.options)
        if "stamp" in route.options:
            return [Stamp(route.options["stamp"])]
        return ()


def test_a_plugin_reads_its_route_options_and_routes_without_them_get_no_step() -> None:
    plugin = Stamper()
    app = App(plugins=[plugin])

    @app.get("/stamped", plugin_options={"stamp": 1}, cache="rule")
    async def stamped() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/plain")
    async def plain() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        assert client.get("/stamped").headers["x-stamp"] == "1"
        assert "x-stamp" not in client.get("/plain").headers
    assert plugin.seen["/stamped"] == {"stamp": 1, "cache": "rule"}
    assert plugin.seen["/plain"] == {}


def test_router_and_include_options_reach_routes_and_the_routes_own_win() -> None:
    plugin = Stamper()
    app = App(plugins=[plugin])
    router = Router(plugin_options={"stamp": "router"}, cache="router-rule")

    @router.get("/default")
    async def default() -> None:
        return None

    @router.get("/own", plugin_options={"stamp": "own"}, cache="own-rule")
    async def own() -> None:
        return None

    app.include_router(router, prefix="/r")
    app.include_router(router, prefix="/i", plugin_options={"stamp": "include"})
    with TestClient(app) as client:
        assert client.get("/r/default").headers["x-stamp"] == "'router'"
        assert client.get("/r/own").headers["x-stamp"] == "'own'"
        assert client.get("/i/default").headers["x-stamp"] == "'router'"
    assert plugin.seen["/r/own"] == {"stamp": "own", "cache": "own-rule"}
    assert plugin.seen["/r/default"] == {"stamp": "router", "cache": "router-rule"}


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"rate_limit": "10/minute"}, "trivium.ratelimit"),
        ({"mcp": True}, "trivium.ai"),
        ({"plugin_options": {"stmap": 1}}, "did you mean 'stamp'?"),
        ({"plugin_options": {"acme_log": 1}}, "install the plugin that reads it"),
    ],
)
def test_an_option_no_installed_plugin_reads_fails_at_start_up(
    options: dict[str, Any], named: str
) -> None:
    app = App(plugins=[Stamper()])
    app.add_route("/x", lambda: None, ["GET"], **options)
    with pytest.raises(ConfigurationError) as caught:
        app.build()
    assert caught.value.code == "route-option-unclaimed"
    assert named in str(caught.value)
    assert "'/x'" in str(caught.value)


def test_a_misspelt_route_option_is_still_refused_at_once() -> None:
    app = App()
    with pytest.raises(TypeError, match="did you mean 'cache'"):
        app.get("/x", cahce=1)  # type: ignore[call-arg]


class Item(BaseModel):
    name: str


def test_routes_with_steps_read_parameters_stream_and_run_background_work() -> None:
    # Plain handlers with request steps take a shorter path on RSGI: every kind of
    # answer must still pass through the steps.
    done: list[str] = []
    app = App(plugins=[Stamper()])

    @app.post("/items/{item_id}", plugin_options={"stamp": 1}, max_body_size=64)
    async def create(item_id: int, item: Item, q: str = "") -> dict[str, Any]:
        return {"id": item_id, "name": item.name, "q": q}

    @app.get("/stream", plugin_options={"stamp": 2})
    async def stream() -> StreamingResponse:
        async def chunks() -> Any:
            yield b"one,"
            yield b"two"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/later", plugin_options={"stamp": 3})
    async def later() -> JSONResponse:
        return JSONResponse({"ok": True}, background=BackgroundTask(done.append, "ran"))

    with TestClient(app) as client:
        created = client.post("/items/7?q=x", json={"name": "kettle"})
        invalid = client.post("/items/seven", json={"name": "kettle"})
        too_big = client.post("/items/7", json={"name": "k" * 100})
        streamed = client.get("/stream")
        later_answer = client.get("/later")
    assert created.json() == {"id": 7, "name": "kettle", "q": "x"}
    assert created.headers["x-stamp"] == "1"
    assert invalid.status_code == 422
    assert invalid.headers["x-stamp"] == "1"
    assert too_big.status_code == 413
    assert too_big.headers["x-stamp"] == "1"
    assert streamed.text == "one,two"
    assert streamed.headers["x-stamp"] == "2"
    assert later_answer.json() == {"ok": True}
    assert later_answer.headers["x-stamp"] == "3"
    assert done == ["ran"]
