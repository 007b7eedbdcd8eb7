from __future__ import annotations

from typing import Annotated

import pytest

from examples.guide.routing import app
from trivium import App
from trivium import Path
from trivium import Router
from trivium.errors import ConfigurationError
from trivium.testing import TestClient

client = TestClient(app)
ADMIN = {"x-role": "admin"}


def test_decorated_handlers() -> None:
    assert client.get("/articles").json() == ["intro", "routing"]
    assert client.put("/articles/intro").json() == {"slug": "intro", "method": "PUT"}


def test_unlisted_method_is_a_405_with_allow() -> None:
    response = client.delete("/articles/intro")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT, HEAD, OPTIONS"


def test_head_and_options_are_automatic() -> None:
    head = client.head("/articles")
    assert head.status_code == 200
    assert head.content == b""
    options = client.options("/articles")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, OPTIONS"


def test_converters() -> None:
    assert client.get("/orders/12").json() == {"order_id": 12}
    assert client.get("/orders/abc").status_code == 404
    uid = "12345678-1234-5678-1234-567812345678"
    assert client.get(f"/sessions/{uid}").json() == {"session_id": uid}
    assert client.get("/static/css/site.css").json() == {"file_path": "css/site.css"}


def test_trailing_slash_redirects_with_308() -> None:
    response = client.get("/articles/", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/articles"


def test_router_prefix_and_dependencies() -> None:
    assert client.get("/v1/admin/stats", headers=ADMIN).json() == {"users": 3}
    assert client.get("/v1/admin/stats", headers={"x-role": "guest"}).status_code == 403
    assert client.get("/v1/admin/stats").status_code == 422


def test_class_based_view() -> None:
    assert client.get("/notes/1").json() == {"note_id": 1, "text": "hello"}
    assert client.put("/notes/1", params={"text": "hi"}).json() == {"note_id": 1, "text": "hi"}
    assert client.delete("/notes/1").json() == {"deleted": 1}
    assert client.post("/notes/1").status_code == 405


def test_mounted_apps() -> None:
    assert client.get("/legacy/a/b").text == "legacy app: /legacy/a/b under /legacy"
    assert client.get("/v2/ping").json() == "pong"


def test_url_path_for() -> None:
    assert client.get("/links").json() == {
        "user": "/v1/admin/users/7",
        "ping": "/v2/ping",
        "absolute": "http://testserver/orders/1",
    }


def test_bad_prefix_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"\[router-prefix\]"):
        Router(prefix="/admin/")


def test_unknown_converter_is_refused_when_the_route_is_declared() -> None:
    bad = App()
    with pytest.raises(ConfigurationError, match=r"\[path-converter\]"):
        bad.add_route("/items/{item_id:integer}", lambda item_id: item_id)


def test_unknown_path_parameter_is_found_at_start_up() -> None:
    bad = App()

    @bad.get("/items/{item_id}")
    def item(id: Annotated[int, Path()]) -> int:
        return id

    with pytest.raises(ConfigurationError, match=r"\[path-param-missing\]"):
        bad.build()


def test_a_route_class_overriding_handle_serves_every_request() -> None:
    response = client.get("/timed/report")
    assert response.json() == {"report": "ready"}
    assert response.headers["server-timing"].startswith("app;dur=")
    # The compiled endpoint says the route is never served around its `handle`.
    route = next(r for r in app.routes if getattr(r, "path", "") == "/timed/report")
    assert route.compiled is not None
    assert route.compiled.shortcut is False
    assert client.get("/timed/nothing").status_code == 404
