"""Seams for batteries: responses documented by dependencies, app-level security schemes."""

from __future__ import annotations

from typing import Annotated

from openapi_spec_validator import validate

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium import Request
from trivium.openapi import SecurityRequirement
from trivium.openapi import security_schemes
from trivium.openapi import webhooks
from trivium.testing import TestClient

HTTP_ERROR = {"$ref": "#/components/schemas/HTTPError"}
DENIED = {
    "description": "No key",
    "content": {"application/json": {"schema": HTTP_ERROR}},
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
}


class KeyGuard:
    """A dependency answering 401 without the key, documenting it with the seam."""

    __openapi_responses__ = {401: DENIED, 200: {"description": "never used"}}

    def __call__(self, request: Request) -> str:
        key = request.headers.get("x-key")
        if key != "secret":
            raise HTTPException(401, "No key", headers={"WWW-Authenticate": "Key"})
        return key


guard = KeyGuard()


def nested(key: Annotated[str, Depends(guard)]) -> str:
    return key


def guarded_app() -> App:
    app = App()

    @app.get("/direct")
    def direct(key: Annotated[str, Depends(guard)]) -> str:
        return key

    @app.get("/nested")
    def through(key: Annotated[str, Depends(nested)]) -> str:
        return key

    @app.get("/declared", responses={401: {"description": "Send the key"}})
    def declared(key: Annotated[str, Depends(guard)]) -> str:
        return key

    @app.get("/open")
    def open_route() -> str:
        return "ok"

    return app


def test_dependency_responses_are_documented_on_the_routes_using_it() -> None:
    doc = guarded_app().openapi()
    for path in ("/direct", "/nested"):
        responses = doc["paths"][path]["get"]["responses"]
        assert list(responses) == ["200", "401"]
        assert responses["401"] == DENIED
        assert responses["200"]["description"] == "Successful Response"
    assert list(doc["paths"]["/open"]["get"]["responses"]) == ["200"]
    validate(doc)


def test_route_declared_responses_win_over_the_dependency() -> None:
    responses = guarded_app().openapi()["paths"]["/declared"]["get"]["responses"]
    assert responses["401"]["description"] == "Send the key"
    assert responses["401"]["content"] == DENIED["content"]


def test_referenced_error_components_are_added() -> None:
    doc = guarded_app().openapi()
    assert doc["components"]["schemas"]["HTTPError"]["required"] == ["detail"]

    app = App()

    @app.get(
        "/x",
        responses={
            422: {
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/HTTPValidationError"}
                    }
                }
            }
        },
    )
    def x() -> str:
        return "x"

    schemas = app.openapi()["components"]["schemas"]
    assert {"HTTPValidationError", "ValidationError"} <= set(schemas)


def test_documented_answer_is_what_the_client_gets() -> None:
    app = guarded_app()
    response = TestClient(app).get("/nested")
    assert response.status_code == 401
    assert response.json() == {"detail": "No key"}
    assert "401" in app.openapi()["paths"]["/nested"]["get"]["responses"]


def test_webhooks_document_no_dependency_answers() -> None:
    app = App()

    @webhooks(app).post("/new-order")
    def new_order(key: Annotated[str, Depends(guard)]) -> None:
        return None

    responses = app.openapi()["webhooks"]["new-order"]["post"]["responses"]
    assert "401" not in responses


scheme = {"type": "oauth2", "flows": {"password": {"tokenUrl": "/token", "scopes": {}}}}


class Secured:
    __openapi_security__ = SecurityRequirement("Login", scheme)

    def __call__(self) -> None:
        return None


def test_app_security_scheme_replaces_the_dependency_one() -> None:
    app = App()

    @app.get("/me", dependencies=[Depends(Secured())])
    def me() -> str:
        return "me"

    mounted = {"type": "oauth2", "flows": {"password": {"tokenUrl": "/v2/token", "scopes": {}}}}
    security_schemes(app)["Login"] = mounted
    doc = app.openapi()
    assert doc["components"]["securitySchemes"]["Login"] == mounted
    assert doc["paths"]["/me"]["get"]["security"] == [{"Login": []}]
    assert doc["components"]["securitySchemes"]["Login"] is not mounted


def test_security_schemes_is_one_mutable_dict_per_app() -> None:
    app = App()
    assert security_schemes(app) is security_schemes(app)
    assert security_schemes(App()) == {}


def test_security_schemes_live_in_the_apps_openapi_plugin() -> None:
    from trivium.openapi import OpenAPI

    app = App()
    security_schemes(app)["Login"] = {"type": "http", "scheme": "bearer"}
    assert app.plugin(OpenAPI).security_schemes == {"Login": {"type": "http", "scheme": "bearer"}}
