"""Declared responses, examples and titles documented as FastAPI documents them."""

from __future__ import annotations

import enum
from typing import Annotated
from typing import Any

import pytest
from pydantic import BaseModel

from trivium import App
from trivium import Body
from trivium import Depends
from trivium import Form
from trivium import Query
from trivium.compat.fastapi import FastAPI
from trivium.openapi import HTTPAuthorizationCredentials
from trivium.openapi import HTTPBearer
from trivium.responses import JSONResponse
from trivium.responses import PlainTextResponse
from trivium.responses import Response
from trivium.testing import TestClient


class Err(BaseModel):
    msg: str


class Item(BaseModel):
    name: str


class User(BaseModel):
    id: int


class Color(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class JsonApiResponse(JSONResponse):
    media_type = "application/vnd.api+json"


def document(app: App) -> dict[str, Any]:
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def operation(app: App, path: str, method: str = "get") -> dict[str, Any]:
    return document(app)["paths"][path][method]  # type: ignore[no-any-return]


RANGES = {
    "1XX": "Information",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client Error",
    "5XX": "Server Error",
    "default": "Default Response",
}


@pytest.mark.parametrize("app_class", [App, FastAPI])
def test_range_responses_without_description_get_fastapi_descriptions(
    app_class: type[App],
) -> None:
    app = app_class()

    @app.get("/ranges", responses={key: {} for key in RANGES})
    def ranges() -> dict[str, int]:
        return {}

    responses = operation(app, "/ranges")["responses"]
    assert {key: responses[key]["description"] for key in RANGES} == RANGES


def test_lower_case_range_and_default_keys_are_documented_as_openapi_spells_them() -> None:
    app = App()

    @app.get("/ranges", responses={"5xx": {}, "DEFAULT": {"description": "Anything else"}})
    def ranges() -> None:
        pass

    responses = operation(app, "/ranges")["responses"]
    assert responses["5XX"] == {"description": "Server Error"}
    assert responses["default"] == {"description": "Anything else"}
    assert "5xx" not in responses
    assert "DEFAULT" not in responses


def test_an_unknown_status_is_an_additional_response() -> None:
    app = App()

    @app.get("/odd", responses={299: {}})
    def odd() -> None:
        pass

    assert operation(app, "/odd")["responses"]["299"] == {"description": "Additional Response"}


@pytest.mark.parametrize(
    ("response_class", "media_type"),
    [
        (PlainTextResponse, "text/plain"),
        (JsonApiResponse, "application/vnd.api+json"),
        (JSONResponse, "application/json"),
        (Response, "application/json"),  # no media type of its own
    ],
)
@pytest.mark.parametrize("app_class", [App, FastAPI])
def test_a_declared_response_model_is_documented_under_the_route_media_type(
    app_class: type[App], response_class: type[Response], media_type: str
) -> None:
    app = app_class()

    @app.get("/thing", response_class=response_class, responses={404: {"model": Err}})
    def thing() -> Response:
        return response_class("x")

    content = operation(app, "/thing")["responses"]["404"]["content"]
    assert content == {media_type: {"schema": {"$ref": "#/components/schemas/Err"}}}


def test_a_router_default_response_class_sets_the_declared_response_media_type() -> None:
    app = FastAPI(default_response_class=PlainTextResponse)

    @app.get("/thing", responses={404: {"model": Err}})
    def thing() -> str:
        return "x"

    assert list(operation(app, "/thing")["responses"]["404"]["content"]) == ["text/plain"]


bearer = HTTPBearer()


def test_a_dependency_error_stays_json_under_another_route_media_type() -> None:
    app = App()

    @app.get("/text", response_class=PlainTextResponse)
    def text(credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> str:
        return "x"

    responses = operation(app, "/text")["responses"]
    assert list(responses["401"]["content"]) == ["application/json"]


class _ExampleQuery(Query):
    """A marker carrying FastAPI's `example=` in the slot `Param` keeps it in."""

    __slots__ = ("example",)

    def __init__(self, *, example: Any) -> None:
        super().__init__()
        self.example = example


class _ExampleBody(Body):
    __slots__ = ("example",)

    def __init__(self, *, example: Any) -> None:
        super().__init__()
        self.example = example


def test_a_marker_example_is_documented_beside_the_schema() -> None:
    app = App()

    @app.post("/items")
    def create(
        q: Annotated[str, _ExampleQuery(example="hello")],
        item: Annotated[Item, _ExampleBody(example={"name": "x"})],
    ) -> None:
        pass

    op = operation(app, "/items", "post")
    (param,) = op["parameters"]
    assert param["example"] == "hello"
    assert "examples" not in param["schema"]
    media = op["requestBody"]["content"]["application/json"]
    assert media == {"schema": {"$ref": "#/components/schemas/Item"}, "example": {"name": "x"}}


def test_fastapi_single_example_is_a_parameter_and_media_type_example() -> None:
    app = FastAPI()

    @app.post("/items")
    def create(
        q: Annotated[str, Query(example="hello")],
        item: Annotated[Item, Body(example={"name": "x"})],
    ) -> None:
        pass

    op = operation(app, "/items", "post")
    (param,) = op["parameters"]
    assert param["example"] == "hello"
    assert "examples" not in param["schema"]
    media = op["requestBody"]["content"]["application/json"]
    assert media == {"schema": {"$ref": "#/components/schemas/Item"}, "example": {"name": "x"}}


def test_an_enum_parameter_is_titled_only_when_it_is_not_a_bare_reference() -> None:
    app = FastAPI()

    @app.get("/paint")
    def paint(
        a: Annotated[Color, Query(description="first")],
        b: Color = Color.RED,
        c: Color | None = None,
        d: Annotated[Color, Query(title="Fourth")] = Color.BLUE,
    ) -> None:
        pass

    params = {p["name"]: p["schema"] for p in operation(app, "/paint")["parameters"]}
    ref = "#/components/schemas/Color"
    assert params["a"] == {"$ref": ref, "description": "first"}
    assert params["b"] == {"$ref": ref, "default": "red"}
    assert params["c"]["title"] == "C"
    assert params["d"] == {"$ref": ref, "default": "blue", "title": "Fourth"}


def test_a_body_model_references_its_components_untitled() -> None:
    app = FastAPI()

    @app.post("/orders")
    def order(
        item: Item,
        user: User | None = None,
        color: Annotated[Color, Body()] = Color.RED,
        importance: Annotated[int, Body()] = 1,
    ) -> None:
        pass

    body = document(app)["components"]["schemas"]["Body_order_orders_post"]["properties"]
    assert body["item"] == {"$ref": "#/components/schemas/Item"}
    assert "title" not in body["user"]
    assert body["color"] == {"$ref": "#/components/schemas/Color", "default": "red"}
    assert body["importance"]["title"] == "Importance"


def test_form_enum_fields_are_references_untitled() -> None:
    app = FastAPI()

    @app.post("/paint")
    def paint(color: Annotated[Color, Form()]) -> None:
        pass

    body = document(app)["components"]["schemas"]["Body_paint_paint_post"]["properties"]
    assert body["color"] == {"$ref": "#/components/schemas/Color"}


def test_an_optional_body_keeps_its_title() -> None:
    app = FastAPI()

    @app.post("/items")
    def create(item: Item | None = None) -> None:
        pass

    schema = operation(app, "/items", "post")["requestBody"]["content"]["application/json"]
    assert schema["schema"]["title"] == "Item"
    assert schema["schema"]["anyOf"][0] == {"$ref": "#/components/schemas/Item"}


def test_an_optional_response_model_is_titled_after_the_operation() -> None:
    app = FastAPI()

    @app.get("/item")
    def item() -> Item | None:
        return None

    @app.get("/plain")
    def plain() -> Item:
        return Item(name="x")

    paths = document(app)["paths"]
    optional = paths["/item"]["get"]["responses"]["200"]["content"]["application/json"]
    assert optional["schema"]["title"] == "Response Item Item Get"
    bare = paths["/plain"]["get"]["responses"]["200"]["content"]["application/json"]
    assert bare["schema"] == {"$ref": "#/components/schemas/Item"}


def test_a_form_model_with_a_default_is_an_optional_request_body() -> None:
    app = FastAPI()

    @app.post("/optional")
    def optional(item: Annotated[Item | None, Form()] = None) -> None:
        pass

    @app.post("/needed")
    def needed(item: Annotated[Item, Form()]) -> None:
        pass

    paths = document(app)["paths"]
    assert "required" not in paths["/optional"]["post"]["requestBody"]
    assert paths["/needed"]["post"]["requestBody"]["required"] is True
    assert TestClient(app).post("/optional").status_code == 200
