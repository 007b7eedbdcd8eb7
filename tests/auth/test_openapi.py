"""The auth views in the OpenAPI document: every answer documented, the token URL mounted.

The last test lets schemathesis loose on an app with every view (JWTs and signup on):
each answer must be a documented status with a body matching its schema.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated
from typing import Any

import pytest
from openapi_spec_validator import validate
from tests.auth.authapp import SECRET
from tests.auth.authapp import add_user
from tests.auth.authapp import login
from tests.auth.authapp import make_app

from trivium import App
from trivium import Depends
from trivium.auth import Auth
from trivium.auth import JWTConfig
from trivium.auth import OptionalUser
from trivium.auth import require_object_permission
from trivium.db import Database
from trivium.stores import MemoryStore
from trivium.testing import TestClient

JWT = JWTConfig(keys={"k1": "k" * 40}, issuer="https://trivium.test", audience="api")
HTTP_ERROR = {"$ref": "#/components/schemas/HTTPError"}


def _codes(document: dict[str, Any], path: str, method: str = "post") -> set[str]:
    return set(document["paths"][path][method]["responses"])


def _documents(document: dict[str, Any], path: str, method: str, status: int) -> bool:
    return str(status) in document["paths"][path][method.lower()]["responses"]


def test_the_document_is_valid_openapi(db: Database) -> None:
    app, _ = make_app(db, jwt=JWT, signup=True)
    validate(app.openapi())


def test_every_view_documents_its_answers(db: Database) -> None:
    app, _ = make_app(db, jwt=JWT, signup=True)
    doc = app.openapi()
    bodies = {"400", "413", "415", "422"}
    assert _codes(doc, "/auth/login") == {"200", "401", "429"} | bodies
    assert _codes(doc, "/auth/logout") == {"204"} | bodies  # an optional refresh token
    assert _codes(doc, "/auth/csrf", "get") == {"200"}
    assert _codes(doc, "/auth/me", "get") == {"200", "401"}
    # The views that manage the account refuse a token with scopes (403).
    assert _codes(doc, "/auth/me", "patch") == {"200", "401", "403", "409"} | bodies
    assert _codes(doc, "/auth/signup") == {"201", "409"} | bodies
    assert _codes(doc, "/auth/password/change") == {"200", "400", "401", "403"} | bodies
    assert _codes(doc, "/auth/password/reset") == {"202"} | bodies
    assert _codes(doc, "/auth/password/reset/confirm") == {"200", "403"} | bodies
    assert _codes(doc, "/auth/tokens", "get") == {"200", "401", "403"}
    assert _codes(doc, "/auth/tokens") == {"201", "401", "403"} | bodies
    assert _codes(doc, "/auth/tokens/{token_id}", "delete") == {"204", "401", "403", "404", "422"}
    assert _codes(doc, "/auth/token") == {"200", "400", "429"} | bodies
    assert _codes(doc, "/auth/refresh") == {"200", "401"} | bodies


def test_error_answers_carry_the_http_error_schema_and_their_headers(db: Database) -> None:
    app, _ = make_app(db, jwt=JWT)
    doc = app.openapi()
    unauthorized = doc["paths"]["/auth/me"]["get"]["responses"]["401"]
    assert unauthorized["content"]["application/json"]["schema"] == HTTP_ERROR
    assert "WWW-Authenticate" in unauthorized["headers"]
    throttled = doc["paths"]["/auth/login"]["post"]["responses"]["429"]
    assert "Retry-After" in throttled["headers"]
    assert "HTTPError" in doc["components"]["schemas"]


def test_success_bodies_are_documented_with_models(db: Database) -> None:
    app, _ = make_app(db, jwt=JWT)
    doc = app.openapi()
    me = doc["paths"]["/auth/me"]["get"]["responses"]["200"]["content"]["application/json"]
    user = doc["components"]["schemas"]["UserOut"]
    assert me["schema"] == {"$ref": "#/components/schemas/UserOut"}
    assert "password" not in user["properties"]
    new_token = doc["components"]["schemas"]["NewAPITokenOut"]
    assert "token" in new_token["required"]
    assert "content" not in doc["paths"]["/auth/logout"]["post"]["responses"]["204"]


def test_login_documents_json_and_form_bodies(db: Database) -> None:
    app, _ = make_app(db)
    body = app.openapi()["paths"]["/auth/login"]["post"]["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["identifier", "password"]


def test_guards_document_401_and_403_on_other_routes(db: Database) -> None:
    app, _ = make_app(db)

    @app.get("/maybe")
    async def maybe(user: OptionalUser) -> bool:
        return bool(user.is_authenticated)

    @app.get("/posts/{id}")
    async def post(id: int, check: Annotated[Any, Depends(require_object_permission("p"))]) -> int:
        await check({"id": id})
        return id

    doc = app.openapi()
    assert _codes(doc, "/write") == {"200", "401"}
    assert _codes(doc, "/staff", "get") == {"200", "401", "403"}
    assert _codes(doc, "/products", "get") == {"200", "401", "403"}
    assert _codes(doc, "/items") == {"200", "401", "403"}
    assert _codes(doc, "/maybe", "get") == {"200"}
    assert _codes(doc, "/posts/{id}", "get") == {"200", "401", "403", "422"}


def test_answers_seen_over_http_are_documented(db: Database) -> None:
    add_user(db, username="ada", email="ada@example.com")
    app, _ = make_app(db)
    doc = app.openapi()
    with TestClient(app) as client:
        seen = [
            ("POST", "/auth/login", client.post("/auth/login", content=b"x")),
            ("POST", "/auth/login", client.post("/auth/login", json=[1])),
            ("POST", "/auth/login", client.post("/auth/login", json={"identifier": "ada"})),
            ("POST", "/auth/login", login(client, "ada", "wrong password")),
            ("GET", "/auth/me", client.get("/auth/me")),
            ("POST", "/auth/tokens", client.post("/auth/tokens", json={"name": "ci"})),
            ("GET", "/staff", client.get("/staff")),
            ("POST", "/auth/logout", client.post("/auth/logout")),
        ]
        login(client, "ada")
        seen.append(("GET", "/staff", client.get("/staff")))
    statuses = [response.status_code for _, _, response in seen]
    assert statuses == [415, 400, 422, 401, 401, 401, 401, 204, 403]
    for method, path, response in seen:
        assert _documents(doc, path, method, response.status_code), (method, path, response)


def test_login_accepts_a_form(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        response = client.post(
            "/auth/login", data={"identifier": "ada", "password": "correct horse battery staple"}
        )
        assert response.status_code == 200
        assert response.json()["username"] == "ada"
        assert set(response.json()) == set(
            app.openapi()["components"]["schemas"]["UserOut"]["required"]
        )


def test_throttled_login_answers_429_with_retry_after(db: Database) -> None:
    app, auth = make_app(db)
    with TestClient(app) as client:
        answers = [login(client, "nobody", "wrong") for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert int(answers[-1].headers["retry-after"]) > 0
    assert auth.login_throttle is not None


def _token_url(app: App) -> str:
    scheme = app.openapi()["components"]["securitySchemes"]["TriviumAuth"]
    flow = scheme["flows"]["password"]
    return f"{flow['tokenUrl']} {flow['refreshUrl']}"


def test_token_url_follows_the_prefix_of_the_views(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'auth.db'}")
    app = App()
    Auth(db, secret_key=SECRET, jwt=JWT, session_store=MemoryStore()).init_app(
        app, prefix="/api/users"
    )
    assert _token_url(app) == "/api/users/token /api/users/refresh"
    assert "/api/users/token" in app.openapi()["paths"]


def test_token_url_follows_a_router_included_by_hand(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'auth.db'}")
    app = App()
    auth = Auth(db, secret_key=SECRET, jwt=JWT, session_store=MemoryStore())
    auth.init_app(app, prefix=None)
    app.include_router(auth.router(prefix="/accounts"))
    assert _token_url(app) == "/accounts/token /accounts/refresh"


# schemathesis over every view ----------------------------------------------------------

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")


def _full_auth_app() -> App:
    """Every auth view (JWTs, signup) on a fresh SQLite file whose tables start-up creates."""
    folder = tempfile.TemporaryDirectory(prefix="trivium-auth-")
    db = Database(f"sqlite:///{Path(folder.name) / 'auth.db'}")
    app, _ = make_app(db, jwt=JWT, signup=True)
    app.state.folder = folder  # removed with the app
    app.on_startup.append(db.create_all)
    return app


conformance = schemathesis.openapi.from_asgi("/openapi.json", _full_auth_app()).include(
    path_regex="^/auth/"
)


@conformance.parametrize()  # type: ignore[untyped-decorator]
@hypothesis.settings(  # type: ignore[untyped-decorator]
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_view_answers_as_documented(case: Any) -> None:
    excluded = [schemathesis.checks.negative_data_rejection]
    if case.path == "/auth/signup":
        # The password validators (length, common passwords, likeness to the email)
        # refuse passwords no JSON schema can describe: a 422 for schema-valid data.
        excluded.append(schemathesis.checks.positive_data_acceptance)
    case.call_and_validate(excluded_checks=excluded)


def test_without_jwt_the_scheme_is_a_bearer_api_token(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'auth.db'}")
    app = App()
    Auth(db, secret_key=SECRET, session_store=MemoryStore()).init_app(app)
    document = app.openapi()
    scheme = document["components"]["securitySchemes"]["TriviumAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert "flows" not in scheme
    assert "/auth/token" not in document["paths"]
