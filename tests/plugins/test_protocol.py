"""The plugin protocol through the public API: install, typed look-up, and each hook kind."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated
from typing import Any

import anyio.lowlevel
import pytest

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium import Request
from trivium import Router
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.http import HTTPConnection
from trivium.http import Response
from trivium.http import WebSocket
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.routing import BaseRoute
from trivium.testing import TestClient


class Recorder(Plugin):
    """A plugin that records the hooks the app calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def setup(self, app: App) -> None:
        self.calls.append("setup")

    def on_build(self, app: App) -> None:
        self.calls.append("on_build")


class Several(Plugin):
    unique = False


def test_plugins_given_to_app_are_installed_in_order_and_found_by_class() -> None:
    first, second = Recorder(), Several()
    app = App(plugins=[first, second])
    assert app.plugins == (first, second)
    assert app.plugin(Recorder) is first
    assert first.calls == ["setup"]
    app.build()
    app.build()
    assert first.calls == ["setup", "on_build"]


def test_a_missing_plugin_is_a_configuration_error_saying_how_to_install_it() -> None:
    from trivium.auth import Auth

    with pytest.raises(ConfigurationError, match=r"install one with app\.install") as info:
        App().plugin(Recorder)
    assert info.value.code == "plugin-not-installed"
    with pytest.raises(ConfigurationError, match=r"Auth\(db, secret_key=\.\.\.\)\.init_app"):
        App().plugin(Auth)


def test_installing_after_the_app_started_is_refused() -> None:
    app = App()
    with TestClient(app):
        pass
    with pytest.raises(ConfigurationError, match="after the app has started") as info:
        app.install(Recorder())
    assert info.value.code == "plugin-after-start"
    assert app.plugins_of(Recorder) == []


def test_only_plugins_can_be_installed() -> None:
    with pytest.raises(ConfigurationError, match="subclass trivium.plugins.Plugin") as info:
        App().install(object())  # type: ignore[arg-type]
    assert info.value.code == "plugin-invalid"
    with pytest.raises(
        ConfigurationError, match=r"plugin class: install an instance, Recorder\("
    ) as info:
        App().install(Recorder)  # type: ignore[arg-type]
    assert info.value.code == "plugin-invalid"
    app = App(plugins=[Recorder()])
    for wrong in ("Recorder", Recorder(), int):
        with pytest.raises(TypeError, match=r"takes a plugin class \(app.plugin\(Auth\)\)"):
            app.plugin(wrong)  # type: ignore[arg-type]


def test_a_plugin_class_allows_one_per_app_unless_it_says_otherwise() -> None:
    app = App(plugins=[Recorder()])
    with pytest.raises(ConfigurationError, match="already has a Recorder") as info:
        app.install(Recorder())
    assert info.value.code == "plugin-duplicate"
    one, two = Several(), Several()
    app.install(one)
    app.install(two)
    with pytest.raises(ConfigurationError, match="plugins_of") as ambiguous:
        app.plugin(Several)
    assert ambiguous.value.code == "plugin-ambiguous"
    assert app.plugins_of(Several) == [one, two]
    with pytest.raises(ConfigurationError, match="plugin-duplicate|already has"):
        app.install(one)


class Greeting(Plugin):
    def routes(self, app: App) -> Sequence[Router | BaseRoute]:
        router = Router(prefix="/greeting")

        @router.get("/hello")
        async def hello() -> dict[str, str]:
            return {"hello": app.title}

        return [router]


def test_a_plugin_contributes_routes() -> None:
    app = App(title="Shop", plugins=[Greeting()])
    with TestClient(app) as client:
        response = client.get("/greeting/hello")
    assert response.status_code == 200
    assert response.json() == {"hello": "Shop"}
    assert response.headers["x-content-type-options"] == "nosniff"


def clock() -> str:
    """A dependency the app declares; a plugin provides its implementation."""
    raise NotImplementedError


class Clock(Plugin):
    def providers(self, app: App) -> Mapping[Any, Any]:
        return {clock: lambda: "plugin time"}


def test_a_plugin_provides_dependencies_and_the_apps_overrides_win() -> None:
    app = App(plugins=[Clock()])

    @app.get("/now")
    async def now(value: Annotated[str, Depends(clock)]) -> str:
        return value

    with TestClient(app) as client:
        assert client.get("/now").json() == "plugin time"
        app.dependency_overrides[clock] = lambda: "test time"
        assert client.get("/now").json() == "test time"


class Tagging(RequestStep):
    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def before(self, connection: HTTPConnection) -> None:
        self.seen.append(connection.scope["path"])
        if connection.headers.get("x-refuse"):
            raise HTTPException(418, "refused by a step")

    async def after(self, request: Request, response: Response | None) -> None:
        if response is not None:  # None after a websocket handler
            response.headers["x-tagged"] = "yes"


class Tagger(Plugin):
    def __init__(self) -> None:
        self.step = Tagging()
        self.asked: list[RouteNeeds] = []

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        self.asked.append(route)
        return (self.step,) if route.takes_connection else ()


def tagged_app() -> tuple[App, Tagger]:
    tagger = Tagger()
    app = App(plugins=[tagger])

    @app.get("/plain")
    async def plain() -> str:
        return "plain"

    @app.get("/with-request")
    async def with_request(request: Request) -> str:
        return request.url.path

    @app.get("/boom")
    async def boom(request: Request) -> str:
        raise HTTPException(409, "conflict")

    return app, tagger


def test_request_steps_run_only_on_the_routes_that_need_them() -> None:
    app, tagger = tagged_app()
    with TestClient(app) as client:
        plain = client.get("/plain")
        full = client.get("/with-request")
        failed = client.get("/boom")
    assert "x-tagged" not in plain.headers
    assert full.headers["x-tagged"] == "yes"
    assert full.json() == "/with-request"
    assert failed.status_code == 409
    assert failed.headers["x-tagged"] == "yes"  # `after` runs on error responses too
    assert tagger.step.seen == ["/with-request", "/boom"]
    needs = {n.path: n.takes_connection for n in tagger.asked if not n.fallback}
    assert needs["/plain"] is False
    assert needs["/with-request"] is True


def test_a_step_refuses_a_request_with_an_http_error() -> None:
    app, _ = tagged_app()
    with TestClient(app) as client:
        response = client.get("/with-request", headers={"x-refuse": "1"})
    assert response.status_code == 418
    assert response.json() == {"detail": "refused by a step"}
    assert response.headers["x-tagged"] == "yes"
    assert response.headers["x-frame-options"] == "DENY"


class Broken(RequestStep):
    """A step whose `after` fails unexpectedly (a session store without its table, say)."""

    def __init__(self, before: bool) -> None:
        self.fails_before = before

    async def before(self, connection: HTTPConnection) -> None:
        if self.fails_before:
            raise RuntimeError("the store has no table")

    async def after(self, request: Request, response: Response | None) -> None:
        raise RuntimeError("the store has no table")


class Breaker(Plugin):
    def request_steps(self, route: RouteNeeds) -> list[RequestStep]:
        return [Broken(before=route.fallback)]


@pytest.mark.parametrize("path", ["/plain", "/with-request", "/missing"])
def test_an_unexpected_error_in_a_step_is_a_500_that_reaches_the_server(path: str) -> None:
    app = App(plugins=[Breaker()])

    @app.get("/plain")
    async def plain() -> str:
        return "ok"

    @app.get("/with-request")
    async def with_request(request: Request) -> str:
        return request.url.path

    with TestClient(app) as client, pytest.raises(RuntimeError, match="has no table"):
        client.get(path)  # raised to the server (which logs it), as a handler's error is
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(path)
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert response.headers["x-frame-options"] == "DENY"


class Warehouse(Plugin):
    def __init__(self) -> None:
        self.events: list[str] = []

    @contextlib.asynccontextmanager
    async def _run(self) -> AsyncIterator[dict[str, Any]]:
        self.events.append("open")
        yield {"warehouse": "open"}
        self.events.append("closed")

    def lifespan(self, app: App) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._run()


def test_a_plugin_lifespan_wraps_serving_and_seeds_request_state() -> None:
    warehouse = Warehouse()
    app = App(plugins=[warehouse])

    @app.get("/state")
    async def state(request: Request) -> str:
        return str(request.state.warehouse)

    with TestClient(app) as client:
        assert warehouse.events == ["open"]
        assert client.get("/state").json() == "open"
    assert warehouse.events == ["open", "closed"]


class Tables(Plugin):
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def migration_folders(self, database: Any) -> Mapping[str, Path]:
        return {"tables": self.folder}


def test_a_plugin_adds_migration_folders_to_the_apps_database(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    App(plugins=[db, Tables(tmp_path)])
    assert db.migration_locations == {"tables": tmp_path}
    assert other.migration_locations == {}


class Pages(Plugin):
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def template_directories(self) -> Sequence[Path]:
        return [self.folder]


def test_templates_search_the_directories_plugins_contribute(tmp_path: Path) -> None:
    from trivium.templating import Templates
    from trivium.templating import render

    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "page.html").write_text("own {{ name }}")
    (tmp_path / "battery").mkdir()
    (tmp_path / "battery" / "page.html").write_text("battery")
    (tmp_path / "battery" / "extra.html").write_text("extra {{ name }}")
    app = App(plugins=[Templates(tmp_path / "own"), Pages(tmp_path / "battery")])

    @app.get("/{name}")
    async def page(request: Request, name: str) -> Response:
        return await render(request, f"{name}.html", {"name": "<b>"})

    with TestClient(app) as client:
        assert client.get("/page").text == "own &lt;b&gt;"  # the app's file wins
        assert client.get("/extra").text == "extra &lt;b&gt;"


class Documented(Plugin):
    def openapi_components(self, app: App) -> Mapping[str, Mapping[str, Any]]:
        return {
            "securitySchemes": {"Key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
            "schemas": {"Money": {"type": "string", "pattern": "^[0-9]+$"}},
        }


def test_a_plugin_adds_openapi_components() -> None:
    app = App(plugins=[Documented()])
    components = app.openapi()["components"]
    assert components["schemas"]["Money"] == {"type": "string", "pattern": "^[0-9]+$"}
    # A scheme no dependency declares is documented all the same: a route's
    # `openapi_extra` security names it, and a document must define what it names.
    assert components["securitySchemes"] == {
        "Key": {"type": "apiKey", "in": "header", "name": "X-Key"}
    }


class Counting(RequestStep):
    """A step whose hooks are plain functions; `before` hands back an awaitable on demand."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: list[str] = []

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        if connection.headers.get("x-refuse"):
            raise HTTPException(418, "refused at once")
        if connection.headers.get("x-wait"):
            return self._later(connection)
        self.seen.append("now " + connection.scope["path"])
        return None

    async def _later(self, connection: HTTPConnection) -> None:
        await anyio.lowlevel.checkpoint()
        self.seen.append("later " + connection.scope["path"])
        if connection.headers.get("x-wait") == "refuse":
            raise HTTPException(429, "refused after waiting")

    def after(self, request: Request, response: Response | None) -> None:
        if response is not None:
            response.headers["x-counted"] = str(len(self.seen))


class CountingPlugin(Plugin):
    def __init__(self) -> None:
        self.step = Counting()

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        return (self.step,)


def test_step_hooks_may_be_plain_functions_returning_an_awaitable_when_they_wait() -> None:
    counting = CountingPlugin()
    app = App(plugins=[counting])

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    with TestClient(app) as client:
        now = client.get("/items/1")
        later = client.get("/items/2", headers={"x-wait": "1"})
        refused = client.get("/items/3", headers={"x-refuse": "1"})
        refused_later = client.get("/items/4", headers={"x-wait": "refuse"})
        missing = client.get("/nowhere")
        with client.websocket_connect("/ws") as session:
            assert session.receive_text() == "hi"
    assert (now.status_code, now.json(), now.headers["x-counted"]) == (200, {"item_id": 1}, "1")
    assert (later.status_code, later.headers["x-counted"]) == (200, "2")
    assert (refused.status_code, refused.json()) == (418, {"detail": "refused at once"})
    assert refused.headers["x-counted"] == "2"  # `after` runs on the refusal too
    assert (refused_later.status_code, refused_later.json()["detail"]) == (
        429,
        "refused after waiting",
    )
    assert (missing.status_code, missing.headers["x-counted"]) == (404, "4")
    assert counting.step.seen == [
        "now /items/1",
        "later /items/2",
        "later /items/4",
        "now /nowhere",
        "now /ws",
    ]


class Inheriting(Tagging):
    """A step that extends another, calling the parent's hooks the usual way."""

    __slots__ = ()

    async def before(self, connection: HTTPConnection) -> None:
        await super().before(connection)
        await RequestStep.before(self, connection)  # the base's no-op is awaitable too
        self.seen.append("inherited")

    async def after(self, request: Request, response: Response | None) -> None:
        await super().after(request, response)
        await RequestStep.after(self, request, response)


def test_a_step_subclass_awaits_its_parents_hooks() -> None:
    step = Inheriting()

    class Uses(Plugin):
        def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
            return (step,)

    app = App(plugins=[Uses()])

    @app.get("/page")
    async def page(request: Request) -> str:
        return "page"

    with TestClient(app) as client:
        response = client.get("/page")
    assert (response.json(), response.headers["x-tagged"]) == ("page", "yes")
    assert step.seen == ["/page", "inherited"]


def test_websocket_routes_get_the_steps_of_connections() -> None:
    app, tagger = tagged_app()

    @app.websocket("/ws2")
    async def ws2(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    with TestClient(app) as client, client.websocket_connect("/ws2") as session:
        assert session.receive_text() == "hi"
    assert tagger.step.seen == ["/ws2"]


def test_the_body_limit_is_one_setting_with_two_spellings() -> None:
    from trivium.http import Limits

    assert App(max_body_size=100).limits.max_body_size == 100
    assert App(max_body_size=100, limits=Limits(max_body_size=100)).limits.max_body_size == 100
    with pytest.raises(ConfigurationError, match="set the body limit once") as info:
        App(max_body_size=100, limits=Limits(max_body_size=200))
    assert info.value.code == "app-body-limit"
