"""The OpenAPI document: operations, parameters, bodies, responses and components."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated
from typing import Any

import pytest
from openapi_spec_validator import validate
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
from trivium import Router
from trivium import UploadFile
from trivium.errors import ConfigurationError
from trivium.openapi import OpenAPIConfig
from trivium.openapi import configure
from trivium.openapi import webhooks
from trivium.responses import EventSourceResponse
from trivium.responses import HTMLResponse
from trivium.testing import TestClient


class Item(BaseModel):
    name: str
    price: float = 0.0


class Priced(BaseModel):
    name: str
    price: float = 1.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def with_tax(self) -> float:
        return self.price * 1.2


class Filters(BaseModel):
    limit: int = Field(10, ge=1, description="how many")
    tags: list[str] = []


class Message(BaseModel):
    message: str


class Tracing(BaseModel):
    x_trace_id: str
    x_sampled: bool = Field(False, deprecated=True)


class Signup(BaseModel):
    email: str
    newsletter: bool = False


def document(app: App) -> dict[str, Any]:
    doc = app.openapi()
    validate(doc)
    return doc


def operation(app: App, path: str, method: str = "get") -> dict[str, Any]:
    return document(app)["paths"][path][method]  # type: ignore[no-any-return]


def params_by_name(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op.get("parameters", [])}


def test_empty_app_document_is_valid_openapi_31() -> None:
    doc = document(App(title="Shop", version="2.0", description="Buy things"))
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "Shop", "version": "2.0", "description": "Buy things"}
    assert doc["paths"] == {}


def test_configured_info_fields_are_merged() -> None:
    app = App()
    configure(app, OpenAPIConfig(info={"contact": {"name": "Ops"}, "summary": "S"}))
    assert document(app)["info"]["contact"] == {"name": "Ops"}


def test_document_is_built_once_and_cached() -> None:
    app = App()
    assert app.openapi() is app.openapi()


def test_document_does_not_list_the_docs_routes() -> None:
    app = App()

    @app.get("/")
    def home() -> dict[str, str]:
        return {}

    assert list(document(app)["paths"]) == ["/"]


def test_summary_and_description_come_from_the_name_and_docstring() -> None:
    app = App()

    @app.get("/items")
    def list_items() -> list[Item]:
        """List the items.

        In stock or not.
        \f
        Internal notes that stay out of the docs.
        """
        return []

    op = operation(app, "/items")
    assert op["summary"] == "List Items"
    assert op["description"] == "List the items.\n\nIn stock or not."


def test_route_options_set_summary_description_tags_and_deprecated() -> None:
    app = App()

    @app.get("/old", summary="Old one", description="Gone soon", tags=["legacy"], deprecated=True)
    def old() -> None:
        """Ignored docstring."""

    op = operation(app, "/old")
    assert (op["summary"], op["description"], op["tags"]) == ("Old one", "Gone soon", ["legacy"])
    assert op["deprecated"] is True


def test_operation_id_is_derived_from_name_path_and_method() -> None:
    app = App()

    @app.route("/items/{item_id:int}", ["GET", "PUT"])
    def item(item_id: int) -> None: ...

    ops = document(app)["paths"]["/items/{item_id}"]
    assert ops["get"]["operationId"] == "item_items__item_id__get"
    assert ops["put"]["operationId"] == "item_items__item_id__put"


def test_explicit_operation_id_is_used_and_suffixed_on_multi_method_routes() -> None:
    app = App()

    @app.get("/a", operation_id="getA")
    def a() -> None: ...

    @app.route("/b", ["GET", "POST"], operation_id="b")
    def b() -> None: ...

    doc = document(app)
    assert doc["paths"]["/a"]["get"]["operationId"] == "getA"
    assert doc["paths"]["/b"]["post"]["operationId"] == "b_post"


def test_duplicate_operation_ids_are_a_configuration_error() -> None:
    app = App()

    @app.get("/a", operation_id="same")
    def a() -> None: ...

    @app.get("/b", operation_id="same")
    def b() -> None: ...

    with pytest.raises(ConfigurationError, match="operationId 'same' is used by both"):
        app.openapi()


def test_path_parameters_drop_converters_and_are_always_required() -> None:
    app = App()

    @app.get("/files/{owner}/{rest:path}")
    def files(rest: str) -> None: ...

    op = operation(app, "/files/{owner}/{rest}")
    params = params_by_name(op)
    assert params["rest"]["in"] == "path"
    assert params["rest"]["required"] is True
    assert params["owner"] == {
        "name": "owner",
        "in": "path",
        "required": True,
        "schema": {"title": "Owner", "type": "string"},
    }


def test_query_parameters_carry_constraints_defaults_and_docs() -> None:
    app = App()

    @app.get("/search")
    def search(
        q: Annotated[str, Query(min_length=2, description="text", examples=["shoe"])],
        page: Annotated[int, Query(ge=1)] = 1,
        old: Annotated[str | None, Query(deprecated=True)] = None,
    ) -> None: ...

    params = params_by_name(operation(app, "/search"))
    assert params["q"]["required"] is True
    assert params["q"]["description"] == "text"
    assert params["q"]["schema"]["minLength"] == 2
    assert params["q"]["schema"]["examples"] == ["shoe"]
    assert params["page"]["required"] is False
    assert params["page"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "title": "Page",
        "default": 1,
    }
    assert params["old"]["deprecated"] is True


def test_header_and_cookie_parameters_use_their_wire_names() -> None:
    app = App()

    @app.get("/")
    def home(
        x_token: Annotated[str, Header()],
        session: Annotated[str | None, Cookie()] = None,
    ) -> None: ...

    params = params_by_name(operation(app, "/"))
    assert params["x-token"]["in"] == "header"
    assert params["x-token"]["required"] is True
    assert params["session"]["in"] == "cookie"


def test_parameter_model_becomes_one_parameter_per_field() -> None:
    app = App()

    @app.get("/items")
    def items(filters: Annotated[Filters, Query()]) -> None: ...

    params = params_by_name(operation(app, "/items"))
    assert set(params) == {"limit", "tags"}
    assert params["limit"]["description"] == "how many"
    assert params["limit"]["schema"]["minimum"] == 1
    assert params["tags"]["schema"]["type"] == "array"


def paging(offset: int = 0) -> int:
    return offset


def test_hidden_parameters_and_dependency_parameters() -> None:
    app = App()

    @app.get("/")
    def home(
        skip: Annotated[int, Depends(paging)],
        secret: Annotated[str | None, Query(include_in_schema=False)] = None,
    ) -> None: ...

    assert set(params_by_name(operation(app, "/"))) == {"offset"}


def test_single_json_body_references_its_model() -> None:
    app = App()

    @app.post("/items")
    def create(item: Item) -> None: ...

    body = operation(app, "/items", "post")["requestBody"]
    assert body == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
        "required": True,
    }


def test_several_body_parameters_form_an_object_keyed_by_name() -> None:
    app = App()

    @app.put("/items/{item_id}")
    def update(item_id: int, item: Item, importance: Annotated[int, Body(gt=0)]) -> None: ...

    doc = document(app)
    body = doc["paths"]["/items/{item_id}"]["put"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[1]
    assert name == "Body_update_items__item_id__put"
    schema = doc["components"]["schemas"][name]
    assert set(schema["properties"]) == {"item", "importance"}
    assert schema["required"] == ["item", "importance"]
    assert schema["properties"]["importance"]["exclusiveMinimum"] == 0


def test_embedded_body_is_keyed_by_its_name() -> None:
    app = App()

    @app.post("/items")
    def create(item: Annotated[Item, Body(embed=True)]) -> None: ...

    doc = document(app)
    schema = doc["components"]["schemas"]["Body_create_items_post"]
    assert schema["properties"]["item"]["$ref"] == "#/components/schemas/Item"


def test_form_fields_make_an_urlencoded_body() -> None:
    app = App()

    @app.post("/login")
    def login(username: Annotated[str, Form()], remember: Annotated[bool, Form()] = False) -> None:
        pass

    doc = document(app)
    content = doc["paths"]["/login"]["post"]["requestBody"]["content"]
    assert list(content) == ["application/x-www-form-urlencoded"]
    schema = doc["components"]["schemas"]["Body_login_login_post"]
    assert schema["required"] == ["username"]


def test_file_fields_make_a_multipart_body_with_binary_strings() -> None:
    app = App()

    @app.post("/upload")
    def upload(
        file: Annotated[UploadFile, File()],
        more: Annotated[list[UploadFile], File()],
        note: Annotated[str, Form()] = "",
    ) -> None: ...

    doc = document(app)
    content = doc["paths"]["/upload"]["post"]["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    props = doc["components"]["schemas"]["Body_upload_upload_post"]["properties"]
    assert props["file"]["contentMediaType"] == "application/octet-stream"
    assert props["more"]["items"]["contentMediaType"] == "application/octet-stream"


def test_model_whose_output_differs_gets_input_and_output_schemas() -> None:
    app = App()

    @app.post("/priced")
    def create(item: Priced) -> Priced:
        return item

    doc = document(app)
    op = doc["paths"]["/priced"]["post"]
    schemas = doc["components"]["schemas"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Priced-Input"
    )
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Priced-Output"
    )
    assert "with_tax" not in schemas["Priced-Input"]["properties"]
    assert "with_tax" in schemas["Priced-Output"]["required"]


def test_a_model_used_by_several_operations_is_defined_once() -> None:
    app = App()

    @app.post("/a")
    def a(item: Item) -> Item:
        return item

    @app.get("/b")
    def b() -> list[Item]:
        return []

    doc = document(app)
    assert [name for name in doc["components"]["schemas"] if "Item" in name] == ["Item"]


def test_success_response_uses_status_code_and_response_model() -> None:
    app = App()

    @app.post("/items", status_code=201, response_model=Item, response_description="Made")
    def create() -> dict[str, Any]:
        return {}

    response = operation(app, "/items", "post")["responses"]["201"]
    assert response == {
        "description": "Made",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
    }


def test_no_content_status_has_no_content() -> None:
    app = App()

    @app.delete("/items/{item_id}", status_code=204)
    def delete(item_id: int) -> None: ...

    responses = operation(app, "/items/{item_id}", "delete")["responses"]
    assert responses["204"] == {"description": "Successful Response"}


def test_untyped_handler_documents_any_json() -> None:
    app = App()

    @app.get("/raw")
    def raw() -> Any:
        return {}

    content = operation(app, "/raw")["responses"]["200"]["content"]
    assert content == {"application/json": {"schema": {}}}


def test_response_class_sets_the_media_type() -> None:
    app = App()

    @app.get("/page", response_class=HTMLResponse)
    def page() -> str:
        return "<p>hi</p>"

    @app.get("/declared")
    def declared() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    doc = document(app)
    for path in ("/page", "/declared"):
        content = doc["paths"][path]["get"]["responses"]["200"]["content"]
        assert content == {"text/html": {"schema": {"type": "string"}}}


def test_event_streams_document_one_event() -> None:
    app = App()

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> EventSourceResponse:
        raise NotImplementedError

    content = operation(app, "/events")["responses"]["200"]["content"]
    assert content["text/event-stream"]["schema"]["properties"]["data"] == {"type": "string"}


def test_declared_responses_are_documented_with_their_models() -> None:
    app = App()

    @app.get(
        "/items/{item_id}",
        responses={
            404: {"model": Message, "description": "Not there"},
            "5XX": {"description": "Broken"},
            409: {},
        },
    )
    def read(item_id: int) -> Item:
        raise NotImplementedError

    responses = operation(app, "/items/{item_id}")["responses"]
    assert responses["404"] == {
        "description": "Not there",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}},
    }
    assert responses["5XX"] == {"description": "Broken"}
    assert responses["409"] == {"description": "Conflict"}


def test_validation_error_is_documented_only_for_operations_with_input() -> None:
    app = App()

    @app.get("/plain")
    def plain() -> None: ...

    @app.get("/search")
    def search(q: str) -> None: ...

    doc = document(app)
    assert "422" not in doc["paths"]["/plain"]["get"]["responses"]
    error = doc["paths"]["/search"]["get"]["responses"]["422"]
    assert error["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HTTPValidationError"
    }
    detail = doc["components"]["schemas"]["ValidationError"]
    assert detail["required"] == ["loc", "msg", "type"]


def test_operations_reading_a_body_document_body_errors() -> None:
    app = App()

    @app.post("/items")
    def create(item: Item) -> None: ...

    doc = document(app)
    responses = doc["paths"]["/items"]["post"]["responses"]
    assert {"400", "413", "415"} <= set(responses)
    assert doc["components"]["schemas"]["HTTPError"]["required"] == ["detail"]


def test_body_errors_can_be_left_out() -> None:
    app = App()
    configure(app, OpenAPIConfig(document_body_errors=False))

    @app.post("/items")
    def create(item: Item) -> None: ...

    doc = document(app)
    assert set(doc["paths"]["/items"]["post"]["responses"]) == {"200", "422"}
    assert "HTTPError" not in doc["components"]["schemas"]


def test_routes_left_out_of_the_schema() -> None:
    app = App()

    @app.get("/hidden", include_in_schema=False)
    def hidden() -> None: ...

    assert document(app)["paths"] == {}


def test_openapi_extra_is_merged_into_the_operation() -> None:
    app = App()

    @app.get("/", openapi_extra={"x-internal": True, "responses": {"200": {"x-cache": 1}}})
    def home() -> None: ...

    op = operation(app, "/")
    assert op["x-internal"] is True
    assert op["responses"]["200"] == {
        "description": "Successful Response",
        "content": {"application/json": {"schema": {}}},
        "x-cache": 1,
    }


def test_servers_and_tag_descriptions() -> None:
    app = App(
        servers=[{"url": "https://api.example.com"}],
        openapi_tags=[{"name": "items", "description": "Things"}],
    )
    doc = document(app)
    assert doc["servers"] == [{"url": "https://api.example.com"}]
    assert doc["tags"] == [{"name": "items", "description": "Things"}]


def test_router_tags_and_responses_reach_the_operations() -> None:
    app = App()
    router = Router(prefix="/items", tags=["items"], responses={404: {"description": "Gone"}})

    @router.get("/{item_id}")
    def read(item_id: Annotated[int, Path(ge=1)]) -> Item:
        raise NotImplementedError

    app.include_router(router, prefix="/v1", tags=["v1"])
    op = operation(app, "/v1/items/{item_id}")
    assert op["tags"] == ["v1", "items"]
    assert op["responses"]["404"] == {"description": "Gone"}
    assert params_by_name(op)["item_id"]["schema"]["minimum"] == 1


def test_class_based_view_methods_are_operations() -> None:
    app = App()

    @app.view("/things/{thing_id}")
    class Thing:
        def get(self, thing_id: int) -> Item:
            """Read a thing."""
            raise NotImplementedError

        def delete(self, thing_id: int) -> None:
            raise NotImplementedError

    item = document(app)["paths"]["/things/{thing_id}"]
    assert set(item) == {"get", "delete"}
    assert item["get"]["description"] == "Read a thing."
    assert item["get"]["operationId"] != item["delete"]["operationId"]


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_dataclass_responses_get_schemas() -> None:
    app = App()

    @app.get("/point")
    def point() -> Point:
        return Point(1, 2)

    doc = document(app)
    assert doc["components"]["schemas"]["Point"]["required"] == ["x", "y"]


def test_webhooks_are_documented_under_their_names() -> None:
    app = App()
    hooks = webhooks(app)

    @hooks.post("/item-created")
    def item_created(item: Item) -> None:
        """Sent when an item is created."""

    doc = document(app)
    op = doc["webhooks"]["item-created"]["post"]
    assert op["description"] == "Sent when an item is created."
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Item"
    }


def test_a_webhook_name_may_leave_out_the_leading_slash() -> None:
    # FastAPI's `@app.webhooks.post("new-subscription")` spelling; the webhook is only
    # documented, never served.
    app = App()

    @webhooks(app).post("new-subscription")
    def new_subscription(item: Item) -> None: ...

    @webhooks(app).post("/order-shipped")
    def order_shipped(item: Item) -> None: ...

    assert sorted(document(app)["webhooks"]) == ["new-subscription", "order-shipped"]
    with TestClient(app) as client:
        assert client.post("/new-subscription", json={"name": "x"}).status_code == 404


def test_app_without_openapi_url_still_generates_a_document() -> None:
    app = App(openapi_url=None)

    @app.get("/")
    def home() -> None: ...

    assert list(document(app)["paths"]) == ["/"]


def test_non_json_defaults_are_left_out_of_schemas() -> None:
    marker = object()
    app = App()

    @app.get("/")
    def home(q: Annotated[Any, Query()] = marker) -> None: ...

    schema = params_by_name(operation(app, "/"))["q"]["schema"]
    assert "default" not in schema


def test_header_parameter_model_uses_hyphenated_names() -> None:
    app = App()

    @app.get("/")
    def home(tracing: Annotated[Tracing, Header()]) -> None: ...

    params = params_by_name(operation(app, "/"))
    assert params["x-trace-id"]["in"] == "header"
    assert params["x-trace-id"]["required"] is True
    assert params["x-sampled"]["deprecated"] is True


def test_form_model_is_the_whole_form_body() -> None:
    app = App()

    @app.post("/signup")
    def signup(form: Annotated[Signup, Form()]) -> None: ...

    body = operation(app, "/signup", "post")["requestBody"]
    assert body == {
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Signup"}}
        },
        "required": True,
    }


def test_body_with_a_default_factory_is_optional() -> None:
    app = App()

    @app.post("/tags")
    def tags(names: Annotated[list[str], Body(default_factory=list, description="Tags")]) -> None:
        pass

    body = operation(app, "/tags", "post")["requestBody"]
    assert "required" not in body  # optional, OpenAPI's default
    assert body["content"]["application/json"]["schema"]["description"] == "Tags"


def test_types_without_a_json_schema_are_documented_as_anything() -> None:
    app = App()

    @app.get("/", response_model=Callable[[], int])
    def home() -> Any:
        return None

    content = operation(app, "/")["responses"]["200"]["content"]
    # Anything: no type, only the title an inline response schema gets (as FastAPI's).
    assert content == {"application/json": {"schema": {"title": "Response Home  Get"}}}


def test_webhooks_cannot_be_added_once_the_app_started() -> None:
    app = App(openapi_url=None)
    app.build()
    with pytest.raises(ConfigurationError, match="after the app has started") as info:
        webhooks(app)
    assert info.value.code == "plugin-after-start"


def test_a_deprecated_parameter_says_so_in_its_schema_and_the_summary_keeps_dashes() -> None:
    app = App()

    @app.get("/items", name="item-url")
    async def items(old: Annotated[int | None, Query(deprecated=True, ge=1)] = None) -> None:
        return None

    operation = app.openapi()["paths"]["/items"]["get"]
    assert operation["summary"] == "Item-Url"  # FastAPI's "item-url".title()
    (parameter,) = operation["parameters"]
    assert parameter["deprecated"] is True
    assert parameter["schema"]["deprecated"] is True
    assert parameter["schema"]["anyOf"][0] == {"type": "integer", "minimum": 1}
