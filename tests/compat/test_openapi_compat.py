"""The OpenAPI document of a compat app, built-in or from `get_openapi`, as FastAPI's."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import pytest
from pydantic import BaseModel

from trivium.compat.fastapi import Depends
from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi.openapi.utils import get_openapi
from trivium.compat.fastapi.security import OAuth2PasswordBearer
from trivium.compat.fastapi.testclient import TestClient


class Item(BaseModel):
    name: str
    note: str | None = None


reader = OAuth2PasswordBearer(tokenUrl="token", scopes={"read": "Read items"})
maybe_reader = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)


def shop() -> FastAPI:
    app = FastAPI()

    @app.post("/items/")
    def create(item: Item, token: Annotated[str, Depends(reader)]) -> Item:
        return item

    return app


def test_get_openapi_builds_the_document_the_app_serves() -> None:
    app = shop()
    served = TestClient(app).get("/openapi.json").json()
    custom = get_openapi(title=app.title, version=app.version, routes=app.routes)
    assert custom == served


def test_get_openapi_documents_only_fastapis_responses() -> None:
    app = shop()
    document = get_openapi(title="Custom", version="1.0", routes=app.routes)
    assert sorted(document["paths"]["/items/"]["post"]["responses"]) == ["200", "422"]
    assert sorted(document["components"]["schemas"]) == [
        "HTTPValidationError",
        "Item",
        "ValidationError",
    ]
    assert "default" not in document["components"]["schemas"]["Item"]["properties"]["note"]


def test_the_custom_openapi_recipe_serves_get_openapis_document() -> None:
    app = shop()

    def custom_openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = get_openapi(title="Custom", version="1.0", routes=app.routes)
        return app.openapi_schema

    app.openapi = custom_openapi  # type: ignore[method-assign]  # FastAPI's recipe
    document = TestClient(app).get("/openapi.json").json()
    assert document["info"] == {"title": "Custom", "version": "1.0"}
    assert sorted(document["paths"]["/items/"]["post"]["responses"]) == ["200", "422"]


@pytest.mark.asgi_only("RSGI has no root_path")
def test_the_root_path_is_listed_before_the_declared_servers() -> None:
    app = FastAPI(servers=[{"url": "https://staging.example.com"}])
    document = TestClient(app, root_path="/api").get("/openapi.json").json()
    assert document["servers"] == [{"url": "/api"}, {"url": "https://staging.example.com"}]


@pytest.mark.asgi_only("RSGI has no root_path")
def test_a_root_path_among_the_declared_servers_is_not_repeated() -> None:
    servers = [{"url": "https://staging.example.com"}, {"url": "/api"}]
    document = TestClient(FastAPI(servers=servers), root_path="/api").get("/openapi.json").json()
    assert document["servers"] == servers


def test_two_schemes_with_one_name_document_the_last_as_fastapi_does() -> None:
    app = FastAPI()

    @app.get("/mine")
    def mine(token: Annotated[str, Depends(reader)]) -> str:
        return token

    @app.get("/maybe")
    def maybe(token: Annotated[str | None, Depends(maybe_reader)]) -> str | None:
        return token

    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    scheme = response.json()["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["scopes"] == {}
