"""No option is silently ignored: route options, router merging, parameter markers."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel
from pydantic import Field
from pydantic import computed_field

from trivium import App
from trivium import Body
from trivium import Cookie
from trivium import Depends
from trivium import File
from trivium import Form
from trivium import Header
from trivium import Path
from trivium import Query
from trivium import Request
from trivium import Router
from trivium.errors import ConfigurationError
from trivium.http import FormLimits
from trivium.http import Limits
from trivium.responses import PlainTextResponse
from trivium.routing import Route
from trivium.testing import TestClient


class User(BaseModel):
    id: int
    email: str
    password_hash: str
    nickname: str | None = None
    role: str = "member"
    full_name: str = Field("", alias="fullName")


USER = {"id": 1, "email": "a@example.com", "password_hash": "argon2$secret", "fullName": "A"}


# Route options -----------------------------------------------------------------------


def test_misspelt_route_option_raises_naming_it() -> None:
    app = App()
    with pytest.raises(TypeError, match=r"'response_model_exclud'.*'response_model_exclude'"):

        @app.get("/", response_model_exclud={"password_hash"})  # type: ignore[call-arg]
        async def index() -> None: ...


def test_unknown_option_on_a_router_raises_at_declaration() -> None:
    router = Router()
    with pytest.raises(TypeError, match="'cache_for'"):
        router.post("/x", cache_for=5)  # type: ignore[call-arg]


def test_callbacks_option_says_what_to_use() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="callbacks.*openapi_extra"):
        app.get("/", callbacks=[])  # type: ignore[call-arg]


def test_response_model_exclude_never_returns_the_field() -> None:
    app = App()

    @app.get("/user", response_model=User, response_model_exclude={"password_hash"})
    async def read() -> dict[str, object]:
        return USER

    @app.get("/users", response_model=list[User], response_model_exclude={"password_hash"})
    async def listing() -> list[dict[str, object]]:
        return [USER, USER]

    client = TestClient(app)
    body = client.get("/user").json()
    assert "password_hash" not in body
    assert body["email"] == "a@example.com"
    users = client.get("/users").json()
    assert len(users) == 2
    assert all("password_hash" not in user for user in users)


def test_response_model_exclude_without_a_model_still_filters() -> None:
    app = App()

    @app.get("/plain", response_model_exclude={"password_hash"})
    async def plain() -> dict[str, object]:
        return dict(USER)

    @app.get("/model", response_model=None, response_model_exclude={"password_hash"})
    async def model() -> object:
        return User.model_validate(USER)

    client = TestClient(app)
    assert "password_hash" not in client.get("/plain").json()
    assert "password_hash" not in client.get("/model").json()


def test_response_model_exclude_applies_before_a_custom_response_class() -> None:
    app = App()

    @app.get(
        "/user",
        response_model=User,
        response_model_exclude={"password_hash"},
        response_class=PlainTextResponse,
    )
    async def read() -> dict[str, object]:
        return USER

    assert "argon2" not in TestClient(app).get("/user").text


def test_response_model_include_and_defaults_and_none() -> None:
    app = App()

    @app.get("/include", response_model=User, response_model_include={"id", "email"})
    async def include() -> dict[str, object]:
        return USER

    @app.get("/defaults", response_model=User, response_model_exclude_defaults=True)
    async def defaults() -> dict[str, object]:
        return {**USER, "fullName": ""}

    @app.get("/none", response_model=User, response_model_exclude_none=True)
    async def none() -> dict[str, object]:
        return USER

    @app.get("/unset", response_model=User, response_model_exclude_unset=True)
    async def unset() -> User:
        return User.model_validate({"id": 2, "email": "b@example.com", "password_hash": "h"})

    @app.get("/names", response_model=User, response_model_by_alias=False)
    async def names() -> dict[str, object]:
        return USER

    client = TestClient(app)
    assert client.get("/include").json() == {"id": 1, "email": "a@example.com"}
    assert "role" not in client.get("/defaults").json()
    assert "fullName" not in client.get("/defaults").json()
    assert "nickname" not in client.get("/none").json()
    assert client.get("/none").json()["role"] == "member"
    assert set(client.get("/unset").json()) == {"id", "email", "password_hash"}
    assert client.get("/names").json()["full_name"] == "A"


# Routers ------------------------------------------------------------------------------


def test_include_router_keeps_the_included_routers_limits() -> None:
    inner = Router()

    @inner.post("/upload")
    async def upload(request: Request) -> int:
        return len(await request.body())

    limited = Router(prefix="/limited", limits=Limits(max_body_size=10))
    limited.include_router(inner)
    app = App()
    app.include_router(limited)
    client = TestClient(app)
    assert client.post("/limited/upload", content=b"x" * 20).status_code == 413
    assert client.post("/limited/upload", content=b"x" * 5).json() == 5


def test_include_router_limits_option() -> None:
    router = Router()

    @router.post("/upload")
    async def upload(request: Request) -> int:
        return len(await request.body())

    app = App()
    app.include_router(router, prefix="/small", limits=Limits(max_body_size=4))
    assert TestClient(app).post("/small/upload", content=b"12345").status_code == 413


def test_form_limits_spelling_applies_over_the_limits_key_by_key() -> None:
    app = App(limits=Limits(form=FormLimits(max_files=1)), form_limits={"max_fields": 2})

    @app.post("/form")
    async def form(a: Annotated[str, Form()], b: Annotated[str, Form()] = "") -> str:
        return a + b

    @app.post("/roomy", form_limits={"max_fields": 3, "max_part_size": 4})
    async def roomy(a: Annotated[str, Form()]) -> str:
        return a

    assert app.limits.form == FormLimits(max_files=1, max_fields=2)
    client = TestClient(app)
    assert client.post("/form", data={"a": "1", "b": "2"}).json() == "12"
    assert client.post("/form", data={"a": "1", "b": "2", "c": "3"}).status_code == 400
    assert client.post("/roomy", data={"a": "1", "b": "2", "c": "3"}).json() == "1"
    assert client.post("/roomy", data={"a": "12345"}).status_code == 413


def test_include_router_options_follow_fastapi() -> None:
    router = Router(default_response_class=PlainTextResponse)

    @router.get("/text")
    async def text() -> str:
        return "plain"

    @router.get("/old", deprecated=False)
    async def old() -> str:
        return "old"

    @router.get("/hidden")
    async def hidden() -> str:
        return "hidden"

    app = App()
    app.include_router(
        router,
        prefix="/a",
        tags=["a"],
        deprecated=True,
        generate_unique_id_function=lambda route: f"{route.tags[0]}-{route.name}",
    )
    app.include_router(router, prefix="/b", include_in_schema=False)
    client = TestClient(app)
    response = client.get("/a/text")
    assert response.text == "plain"
    assert response.headers["content-type"].startswith("text/plain")
    assert client.get("/b/hidden").text == "hidden"
    paths = app.openapi()["paths"]
    assert not any(path.startswith("/b/") for path in paths)
    assert paths["/a/text"]["get"]["operationId"] == "a-text"
    assert paths["/a/old"]["get"]["deprecated"] is True


def test_app_generate_unique_id_function_and_default_response_class() -> None:
    app = App(
        generate_unique_id_function=lambda route: f"op-{route.name}",
        default_response_class=PlainTextResponse,
    )

    @app.get("/hello")
    async def hello() -> str:
        return "hi"

    router = Router()

    @router.get("/there")
    async def there() -> str:
        return "there"

    app.include_router(router)
    assert TestClient(app).get("/there").headers["content-type"].startswith("text/plain")
    paths = app.openapi()["paths"]
    assert paths["/hello"]["get"]["operationId"] == "op-hello"
    assert paths["/there"]["get"]["operationId"] == "op-there"


def test_router_on_startup_and_on_shutdown_run() -> None:
    events: list[str] = []
    router = Router(
        on_startup=[lambda: events.append("up")], on_shutdown=[lambda: events.append("down")]
    )
    app = App()
    app.include_router(router)
    with TestClient(app):
        assert events == ["up"]
    assert events == ["up", "down"]


def test_route_class_overriding_get_route_handler_is_refused() -> None:
    class Timed(Route):
        def get_route_handler(self) -> None: ...

    with pytest.raises(ConfigurationError, match="get_route_handler"):
        Router(route_class=Timed)


def test_route_class_builds_the_routes() -> None:
    class Tagged(Route):
        __slots__ = ()

    router = Router(route_class=Tagged)

    @router.get("/x")
    async def x() -> int:
        return 1

    assert isinstance(router.routes[0], Tagged)


def test_empty_path_is_checked_when_included() -> None:
    router = Router()

    @router.get("")
    async def root() -> str:
        return "root"

    app = App()
    app.include_router(router, prefix="/items")
    assert TestClient(app).get("/items").json() == "root"
    with pytest.raises(ConfigurationError, match="empty path"):
        App().include_router(router)


def test_empty_path_on_the_app_is_refused_at_declaration() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="empty only under a router prefix"):

        @app.get("")
        async def root() -> str:
            return "root"


# Dependency overrides -------------------------------------------------------------------


def real() -> str:
    return "real"


def test_dependency_overrides_in_place_union_applies() -> None:
    app = App()

    @app.get("/")
    async def index(value: Annotated[str, Depends(real)]) -> str:
        return value

    client = TestClient(app)
    assert client.get("/").json() == "real"
    app.dependency_overrides |= {real: lambda: "fake"}
    assert client.get("/").json() == "fake"
    app.dependency_overrides.popitem()
    assert client.get("/").json() == "real"
    app.dependency_overrides.setdefault(real, lambda: "other")
    assert client.get("/").json() == "other"


def test_dependency_overrides_replaced_by_assignment_apply() -> None:
    app = App()

    @app.get("/")
    async def index(value: Annotated[str, Depends(real)]) -> str:
        return value

    app.dependency_overrides = {real: lambda: "fake"}  # FastAPI tests' idiom
    with TestClient(app) as client:
        assert client.get("/").json() == "fake"
        app.dependency_overrides = {}  # their teardown
        assert client.get("/").json() == "real"
        app.dependency_overrides = {real: lambda: "again"}
        assert client.get("/").json() == "again"


# Parameter markers ----------------------------------------------------------------------


@pytest.mark.parametrize("marker", [Query, Path, Header, Cookie, Body, Form, File])
def test_misspelt_marker_option_raises_naming_it(marker: type) -> None:
    with pytest.raises(TypeError, match=r"'min_lenght'.*did you mean 'min_length'"):
        marker(min_lenght=3)


def test_unsupported_marker_option_says_what_to_use() -> None:
    with pytest.raises(ConfigurationError, match="validation_alias.*alias="):
        Query(validation_alias="q")


def test_marker_example_and_json_schema_extra_are_documented() -> None:
    app = App()

    @app.get("/search")
    async def search(
        q: Annotated[str, Query(example="shoes", json_schema_extra={"x-kind": "term"})],
    ) -> str:
        return q

    (parameter,) = app.openapi()["paths"]["/search"]["get"]["parameters"]
    assert parameter["example"] == "shoes"  # as FastAPI writes its single `example`
    assert parameter["schema"]["x-kind"] == "term"
    assert TestClient(app).get("/search?q=hat").json() == "hat"


# App options ----------------------------------------------------------------------------


def test_app_openapi_info_options() -> None:
    app = App(
        summary="Short",
        contact={"name": "Ops", "email": "ops@example.com"},
        license_info={"name": "MIT", "identifier": "MIT"},
        terms_of_service="https://example.com/terms",
        swagger_ui_parameters={"syntaxHighlight": False},
    )
    info = app.openapi()["info"]
    assert info["summary"] == "Short"
    assert info["contact"] == {"name": "Ops", "email": "ops@example.com"}
    assert info["license"] == {"name": "MIT", "identifier": "MIT"}
    assert info["termsOfService"] == "https://example.com/terms"
    assert '"syntaxHighlight": false' in TestClient(app).get("/docs").text.replace(
        '"syntaxHighlight":false', '"syntaxHighlight": false'
    )


class Item(BaseModel):
    name: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def slug(self) -> str:
        return self.name.lower()


def test_separate_input_output_schemas_false_documents_one_schema() -> None:
    def build(separate: bool) -> set[str]:
        app = App(separate_input_output_schemas=separate)

        @app.post("/items")
        async def create(item: Item) -> Item:
            return item

        return set(app.openapi()["components"]["schemas"])

    assert {"Item-Input", "Item-Output"} <= build(True)
    assert "Item" in build(False)
    assert "Item-Input" not in build(False)


def test_root_path_is_set_on_every_request() -> None:
    app = App(root_path="/api")

    @app.get("/where")
    async def where(request: Request) -> str:
        return str(request.scope["root_path"])

    client = TestClient(app)
    assert client.get("/where").json() == "/api"
    assert client.get("/api/where").json() == "/api"
    assert app.openapi_url is not None
    assert client.get("/openapi.json").json()["servers"] == [{"url": "/api"}]
