from __future__ import annotations

import uuid

import pytest

from trivium import App
from trivium import Depends
from trivium import Request
from trivium import Router
from trivium.errors import ConfigurationError
from trivium.responses import PlainTextResponse
from trivium.routing import NoMatchFound
from trivium.testing import TestClient


def make_app() -> App:
    app = App()

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"page": "index"}

    @app.get("/users/me")
    async def me() -> dict[str, str]:
        return {"user": "me"}

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    @app.get("/files/{path:path}")
    async def files(path: str) -> dict[str, str]:
        return {"path": path}

    @app.get("/orders/{order_id:int}")
    async def order(order_id: int) -> dict[str, int]:
        return {"order": order_id}

    @app.get("/orders/{slug}")
    async def order_slug(slug: str) -> dict[str, str]:
        return {"slug": slug}

    @app.get("/things/{tid:uuid}")
    async def thing(tid: uuid.UUID) -> dict[str, str]:
        return {"tid": str(tid)}

    @app.get("/reports/{name}.{ext}")
    async def report(name: str, ext: str) -> dict[str, str]:
        return {"name": name, "ext": ext}

    @app.route("/multi", methods=["GET", "POST"])
    async def multi(request: Request) -> dict[str, str]:
        return {"method": request.method}

    @app.put("/items/{item_id}")
    async def put_item(item_id: int) -> dict[str, str]:
        return {"did": "put"}

    @app.delete("/items/{item_id}", status_code=204)
    async def delete_item(item_id: int) -> None:
        return None

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app())


def test_static_route_matches(client: TestClient) -> None:
    assert client.get("/").json() == {"page": "index"}


def test_static_segment_wins_over_parameter(client: TestClient) -> None:
    assert client.get("/users/me").json() == {"user": "me"}
    assert client.get("/users/7").json() == {"user_id": 7}


def test_path_parameter_typed_by_annotation_is_validated(client: TestClient) -> None:
    response = client.get("/users/abc")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "user_id"]


def test_path_converter_takes_the_rest(client: TestClient) -> None:
    assert client.get("/files/a/b/c.txt").json() == {"path": "a/b/c.txt"}


def test_int_converter_falls_back_to_other_routes(client: TestClient) -> None:
    assert client.get("/orders/12").json() == {"order": 12}
    assert client.get("/orders/latest").json() == {"slug": "latest"}


def test_uuid_converter(client: TestClient) -> None:
    value = uuid.uuid4()
    assert client.get(f"/things/{value}").json() == {"tid": str(value)}
    assert client.get("/things/not-a-uuid").status_code == 404


def test_parameters_inside_a_segment(client: TestClient) -> None:
    assert client.get("/reports/q3.pdf").json() == {"name": "q3", "ext": "pdf"}


def test_unknown_path_is_404_json(client: TestClient) -> None:
    response = client.get("/missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.post("/users/me")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert response.json() == {"detail": "Method Not Allowed"}


def test_allow_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.patch("/items/1")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"PUT", "DELETE", "OPTIONS"}


def test_head_is_answered_by_get_without_body(client: TestClient) -> None:
    response = client.head("/users/me")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(b'{"user":"me"}'))


def test_options_is_answered_automatically(client: TestClient) -> None:
    response = client.options("/multi")
    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST", "HEAD", "OPTIONS"}


def test_route_with_several_methods(client: TestClient) -> None:
    assert client.get("/multi").json() == {"method": "GET"}
    assert client.post("/multi").json() == {"method": "POST"}


def test_status_204_has_no_body(client: TestClient) -> None:
    response = client.delete("/items/3")
    assert response.status_code == 204
    assert response.content == b""


def test_trailing_slash_redirects_with_308(client: TestClient) -> None:
    response = client.get("/users/me/?x=1", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/users/me?x=1"


def test_missing_trailing_slash_redirects_when_only_slash_form_exists() -> None:
    app = App()

    @app.get("/docs/")
    async def docs() -> str:
        return "docs"

    client = TestClient(app)
    response = client.get("/docs", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/docs/"


def test_redirect_slashes_can_be_disabled() -> None:
    app = App(redirect_slashes=False)

    @app.get("/a")
    async def a() -> str:
        return "a"

    assert TestClient(app).get("/a/", follow_redirects=False).status_code == 404


def test_router_prefix_tags_and_dependencies() -> None:
    calls: list[str] = []

    def audit() -> None:
        calls.append("audit")

    router = Router(prefix="/v1", dependencies=[Depends(audit)])

    @router.get("/ping")
    async def ping() -> str:
        return "pong"

    app = App()
    app.include_router(router, prefix="/api")
    client = TestClient(app)
    assert client.get("/api/v1/ping").json() == "pong"
    assert calls == ["audit"]


def test_routers_nest() -> None:
    inner = Router(prefix="/inner")

    @inner.get("/x")
    async def x() -> str:
        return "x"

    outer = Router(prefix="/outer")
    outer.include_router(inner)
    app = App()
    app.include_router(outer)
    assert TestClient(app).get("/outer/inner/x").json() == "x"


def test_include_with_dependencies_runs_them() -> None:
    from trivium import HTTPException

    def deny() -> None:
        raise HTTPException(403, "nope")

    router = Router()

    @router.get("/secret")
    async def secret() -> str:
        return "s"

    app = App()
    app.include_router(router, dependencies=[Depends(deny)])
    response = TestClient(app).get("/secret")
    assert response.status_code == 403
    assert response.json() == {"detail": "nope"}


def test_url_path_for_named_routes() -> None:
    app = make_app()
    assert app.url_path_for("user", user_id=5) == "/users/5"
    assert app.url_path_for("files", path="a/b") == "/files/a/b"
    with pytest.raises(NoMatchFound, match="no route named 'nope'"):
        app.url_path_for("nope")
    with pytest.raises(NoMatchFound, match="takes parameters"):
        app.url_path_for("user")


def test_request_url_for_builds_absolute_url() -> None:
    app = App()

    @app.get("/items/{item_id}", name="item")
    async def item(item_id: int, request: Request) -> str:
        return str(request.url_for("item", item_id=item_id + 1))

    assert TestClient(app).get("/items/1").json() == "http://testserver/items/2"


def test_mount_asgi_app_keeps_root_path() -> None:
    async def raw(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        body = f"{scope['root_path']}|{scope['path']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    app = App()
    app.mount("/legacy", raw)
    client = TestClient(app)
    assert client.get("/legacy/a/b").text == "/legacy|/legacy/a/b"
    assert client.get("/legacyx").status_code == 404


def test_a_mount_behind_the_apps_root_path_gets_the_full_path() -> None:
    # `App(root_path=...)` (`trivium run --root-path`): the server's path leaves the
    # prefix out, and the mounted app (a WSGI bridge, another app) strips its
    # root_path from the path, as the ASGI spec has `path` include `root_path`.
    async def raw(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        body = f"{scope['root_path']}|{scope['path']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    child = App()

    @child.get("/hello")
    async def hello() -> str:
        return "hi"

    app = App(root_path="/api")
    app.mount("/legacy", raw)
    app.mount("/child", child)
    client = TestClient(app)
    assert client.get("/legacy/a/b").text == "/api/legacy|/api/legacy/a/b"
    assert client.get("/child/hello").json() == "hi"
    # A server that already puts the prefix in the path (uvicorn --root-path) as well.
    assert client.get("/api/legacy/a").text == "/api/legacy|/api/legacy/a"


def test_mounted_trivium_app_routes_and_url_for() -> None:
    child = App()

    @child.get("/hello/{name}")
    async def hello(name: str) -> str:
        return f"hi {name}"

    parent = App()
    parent.mount("/child", child, name="child")
    client = TestClient(parent)
    assert client.get("/child/hello/bob").json() == "hi bob"
    assert parent.url_path_for("child:hello", name="x") == "/child/hello/x"


def test_class_based_view_shares_dependencies() -> None:
    def current_user() -> str:
        return "ada"

    app = App()

    @app.view("/notes/{note_id}")
    class NoteView:
        user: str = Depends(current_user)

        async def get(self, note_id: int) -> dict[str, object]:
            return {"user": self.user, "note": note_id}

        def delete(self, note_id: int) -> dict[str, object]:
            return {"deleted": note_id, "by": self.user}

    client = TestClient(app)
    assert client.get("/notes/3").json() == {"user": "ada", "note": 3}
    assert client.delete("/notes/4").json() == {"deleted": 4, "by": "ada"}
    assert client.post("/notes/4").status_code == 405
    assert app.url_path_for("NoteView", note_id=9) == "/notes/9"


def test_view_without_methods_is_a_configuration_error() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="defines none of"):

        @app.view("/x")
        class Empty:
            pass


def test_bad_paths_are_configuration_errors() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="must start with '/'"):
        app.get("nope")(lambda: None)
    with pytest.raises(ConfigurationError, match="unknown converter"):
        app.get("/{x:weird}")(lambda x: None)
    with pytest.raises(ConfigurationError, match="last segment"):
        app.get("/{x:path}/more")(lambda x: None)


def test_path_parameter_not_in_path_fails_at_start_up() -> None:
    from trivium import Path

    app = App()

    @app.get("/items")
    async def items(item_id: int = Path()) -> int:
        return item_id

    with pytest.raises(ConfigurationError, match="not in the route path"):
        app.build()


def test_response_class_option() -> None:
    app = App()

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        return "plain"

    response = TestClient(app).get("/text")
    assert response.text == "plain"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_url_path_for_encodes_values_so_the_link_comes_back_to_the_route() -> None:
    """A slug from a user can't steer a link: `?`, `#`, `%` and spaces are encoded."""
    app = App()

    @app.get("/files/{name}", name="file")
    async def file(name: str) -> dict[str, str]:
        return {"name": name}

    @app.get("/tree/{rest:path}", name="tree")
    async def tree(rest: str) -> dict[str, str]:
        return {"rest": rest}

    values = ["..?confirm=1", "x#y", "a b", "ünï", "100%", "a:b@c"]
    assert app.url_path_for("file", name="..?confirm=1") == "/files/..%3Fconfirm=1"
    assert app.url_path_for("tree", rest="a/b c/d?e") == "/tree/a/b%20c/d%3Fe"
    with TestClient(app) as client:
        for value in values:
            answer = client.get(app.url_path_for("file", name=value))
            assert answer.json() == {"name": value}
        assert client.get(app.url_path_for("tree", rest="a/b c/d?e")).json() == {
            "rest": "a/b c/d?e"
        }


@pytest.mark.parametrize("value", ["", ".", "..", "../admin", "a/b"])
def test_url_path_for_refuses_a_value_no_url_brings_back(value: str) -> None:
    app = App()

    @app.get("/files/{name}", name="file")
    async def file(name: str) -> dict[str, str]:
        return {"name": name}

    with pytest.raises(NoMatchFound, match="can't be a segment"):
        app.url_path_for("file", name=value)


def test_a_path_parameter_refuses_dot_segments() -> None:
    app = App()

    @app.get("/tree/{rest:path}", name="tree")
    async def tree(rest: str) -> dict[str, str]:
        return {"rest": rest}

    with pytest.raises(NoMatchFound):
        app.url_path_for("tree", rest="a/../../admin")


def test_the_slash_redirect_keeps_encoded_characters_encoded() -> None:
    app = App()

    @app.get("/q?x/")
    async def odd() -> dict[str, str]:
        return {"route": "q?x"}

    @app.get("/p%41/")
    async def percent() -> dict[str, str]:
        return {"route": "p%41"}

    with TestClient(app, follow_redirects=False) as client:
        question = client.get("/q%3Fx")
        percent_sign = client.get("/p%2541?page=2")
        assert question.headers["location"] == "/q%3Fx/"
        assert percent_sign.headers["location"] == "/p%2541/?page=2"
        assert client.get(question.headers["location"]).json() == {"route": "q?x"}
