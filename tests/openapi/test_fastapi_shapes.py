"""Document details that match FastAPI's output (generated clients depend on them)."""

from __future__ import annotations

import enum
from typing import Annotated
from typing import Any

import pytest

from trivium import App
from trivium import Body
from trivium import Depends
from trivium import Path
from trivium.openapi import OAuth2PasswordRequestForm

pytestmark = pytest.mark.drives_no_app

NAMED = {"normal": {"summary": "A normal item", "value": {"name": "Foo"}}}


class Model(enum.Enum):
    ALEXNET = "alexnet"


def test_parameters_are_listed_path_first_and_a_component_is_referenced_bare() -> None:
    app = App()

    @app.get("/models/{name}/{item_id}")
    def read(q: str, name: Model, item_id: Annotated[int, Path(title="The ID")]) -> None:
        pass

    params = app.openapi()["paths"]["/models/{name}/{item_id}"]["get"]["parameters"]
    assert [p["in"] for p in params] == ["path", "path", "query"]
    by_name = {p["name"]: p for p in params}
    assert by_name["name"]["schema"] == {"$ref": "#/components/schemas/Model"}
    assert by_name["item_id"]["schema"]["title"] == "The ID"


def test_an_inline_response_or_body_schema_gets_a_title() -> None:
    app = App()

    @app.post("/weights")
    def weights(weights: dict[int, float]) -> list[int]:
        return list(weights)

    document = app.openapi()
    op = document["paths"]["/weights"]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body["title"] == "Weights"
    response = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert response["title"] == "Response Weights Weights Post"


def test_password_fields_of_the_oauth2_form_are_masked() -> None:
    app = App()

    @app.post("/token")
    def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Any:
        return {}

    schemas = app.openapi()["components"]["schemas"]
    (body,) = (s for name, s in schemas.items() if name.startswith("Body_"))
    assert body["properties"]["password"]["format"] == "password"
    assert body["properties"]["client_secret"]["format"] == "password"


def test_openapi_examples_are_documented_beside_a_parameter_and_a_body() -> None:
    app = App()

    @app.put("/items/{item_id}")
    def update(
        item_id: Annotated[int, Path(openapi_examples={"one": {"value": 1}})],
        item: Annotated[dict[str, str], Body(openapi_examples=NAMED)],
    ) -> None:
        pass

    op = app.openapi()["paths"]["/items/{item_id}"]["put"]
    assert op["parameters"][0]["examples"] == {"one": {"value": 1}}
    assert op["requestBody"]["content"]["application/json"]["examples"] == NAMED
