"""`fastapi.routing.APIRoute`: the attributes FastAPI users read and set on their routes."""

from __future__ import annotations

import pytest

from trivium.compat.fastapi import APIRouter
from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi.openapi.utils import get_openapi
from trivium.compat.fastapi.responses import HTMLResponse
from trivium.compat.fastapi.responses import JSONResponse
from trivium.compat.fastapi.routing import APIRoute
from trivium.compat.fastapi.testclient import TestClient


def items_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    def read_item(item_id: int) -> dict[str, int]:
        """Read one item.

        \f
        Not for the docs.
        """
        return {"item_id": item_id}

    return app


def api_routes(app: FastAPI) -> list[APIRoute]:
    return [route for route in app.routes if isinstance(route, APIRoute)]


def test_operation_ids_set_from_route_names_are_documented() -> None:
    app = items_app()
    for route in app.routes:  # the recipe of FastAPI's docs
        if isinstance(route, APIRoute):
            route.operation_id = route.name
    document = TestClient(app).get("/openapi.json").json()
    assert document["paths"]["/items/{item_id}"]["get"]["operationId"] == "read_item"


def test_the_docs_routes_are_not_api_routes() -> None:
    app = items_app()
    TestClient(app).get("/openapi.json")  # the docs routes exist once the app is built
    assert [route.path for route in api_routes(app)] == ["/items/{item_id}"]
    assert "/openapi.json" in [getattr(route, "path", None) for route in app.routes]


def test_an_api_route_has_fastapis_defaults() -> None:
    (route,) = api_routes(items_app())
    assert route.name == "read_item"
    assert route.path == "/items/{item_id}"
    assert route.methods == {"GET"}
    assert route.operation_id is None
    assert route.summary is None
    assert route.description == "Read one item."
    assert route.response_description == "Successful Response"
    assert route.status_code is None
    assert route.deprecated is None
    assert route.include_in_schema is True
    assert route.responses == {}
    assert route.response_class is JSONResponse
    assert route.openapi_extra is None
    assert route.tags == []
    assert route.unique_id == "read_item_items__item_id__get"


def test_an_api_route_reflects_the_options_it_was_declared_with() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/pages", tags=["pages"])

    @router.post(
        "/",
        status_code=201,
        summary="Make a page",
        description="Makes one.",
        deprecated=True,
        responses={409: {"description": "Exists"}},
        response_class=HTMLResponse,
        operation_id="make_page",
        openapi_extra={"x-internal": True},
    )
    def make_page() -> str:
        return "<p>made</p>"

    app.include_router(router)
    (route,) = api_routes(app)
    assert route.methods == {"POST"}
    assert (route.status_code, route.summary, route.description) == (
        201,
        "Make a page",
        "Makes one.",
    )
    assert route.deprecated is True
    assert route.responses == {409: {"description": "Exists"}}
    assert route.response_class is HTMLResponse
    assert (route.operation_id, route.unique_id) == ("make_page", "make_page")
    assert route.openapi_extra == {"x-internal": True}
    assert route.tags == ["pages"]


def test_attributes_set_before_the_document_is_built_are_documented() -> None:
    app = items_app()
    (route,) = api_routes(app)
    route.summary = "Fetch"
    route.tags.append("items")
    route.responses[404] = {"description": "No such item"}
    operation = TestClient(app).get("/openapi.json").json()["paths"]["/items/{item_id}"]["get"]
    assert operation["summary"] == "Fetch"
    assert operation["tags"] == ["items"]
    assert operation["responses"]["404"] == {"description": "No such item"}


def test_a_route_set_out_of_the_schema_leaves_the_document() -> None:
    app = items_app()
    (route,) = api_routes(app)
    route.include_in_schema = False
    assert TestClient(app).get("/openapi.json").json()["paths"] == {}


def test_methods_are_a_set_kept_in_declared_order() -> None:
    app = FastAPI()

    @app.api_route("/things", methods=["post", "GET"])
    def things() -> str:
        return "ok"

    (route,) = api_routes(app)
    assert route.methods == {"GET", "POST"}
    assert list(route.methods) == ["POST", "GET"]
    assert TestClient(app).options("/things").headers["allow"].startswith("POST, GET")


def test_an_api_route_built_with_fastapis_keywords_is_served() -> None:
    def read_items() -> list[str]:
        return ["a"]

    route = APIRoute("/items", read_items, methods=["GET"], status_code=202, tags=["items"])
    client = TestClient(FastAPI(routes=[route]))
    response = client.get("/items")
    assert (response.status_code, response.json()) == (202, ["a"])
    assert client.get("/openapi.json").json()["paths"]["/items"]["get"]["tags"] == ["items"]


def test_an_unknown_keyword_is_refused() -> None:
    with pytest.raises(TypeError, match="did you mean 'status_code'"):
        APIRoute("/items", lambda: None, status_cod=202)


def test_openapi_version_feeds_the_custom_openapi_recipe() -> None:
    app = items_app()
    assert app.openapi_version == "3.1.0"
    document = get_openapi(
        title="Custom", version="2.0", openapi_version=app.openapi_version, routes=app.routes
    )
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Custom", "version": "2.0"}


def test_webhook_routes_are_api_routes() -> None:
    app = FastAPI()

    @app.webhooks.post("new-subscription")
    def new_subscription(body: dict[str, str]) -> None:
        """Sent when someone subscribes."""

    (route,) = app.webhooks.routes
    assert isinstance(route, APIRoute)
    assert route.description == "Sent when someone subscribes."
