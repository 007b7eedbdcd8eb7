"""Security dependencies: credentials over HTTP, and the schemes they document."""

from __future__ import annotations

import base64
from typing import Annotated
from typing import Any

import pytest
from openapi_spec_validator import validate

from trivium import App
from trivium import Depends
from trivium.errors import ConfigurationError
from trivium.openapi import APIKeyCookie
from trivium.openapi import APIKeyHeader
from trivium.openapi import APIKeyQuery
from trivium.openapi import HTTPAuthorizationCredentials
from trivium.openapi import HTTPBasic
from trivium.openapi import HTTPBasicCredentials
from trivium.openapi import HTTPBearer
from trivium.openapi import OAuth2PasswordBearer
from trivium.openapi import OAuth2PasswordRequestForm
from trivium.openapi import security_scheme
from trivium.testing import TestClient

oauth2 = OAuth2PasswordBearer(tokenUrl="/token", scopes={"read": "Read things"})
optional_oauth2 = OAuth2PasswordBearer(
    tokenUrl="/token", scopes={"read": "Read things"}, auto_error=False
)
bearer = HTTPBearer(bearerFormat="JWT", description="A JWT")
basic = HTTPBasic(realm="shop")
header_key = APIKeyHeader(name="x-api-key")
query_key = APIKeyQuery(name="api_key", auto_error=False)
cookie_key = APIKeyCookie(name="session", scheme_name="session")


def token_app() -> App:
    app = App()

    @app.get("/token")
    def read_token(token: Annotated[str, Depends(oauth2)]) -> dict[str, str]:
        return {"token": token}

    @app.get("/maybe")
    def maybe(token: Annotated[str | None, Depends(optional_oauth2)]) -> dict[str, Any]:
        return {"token": token}

    return app


def test_oauth2_bearer_without_a_token_is_401_with_a_bearer_challenge() -> None:
    response = TestClient(token_app()).get("/token")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated"}


def test_oauth2_bearer_rejects_other_authorization_schemes() -> None:
    response = TestClient(token_app()).get("/token", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


def test_oauth2_bearer_gives_the_token() -> None:
    response = TestClient(token_app()).get("/token", headers={"Authorization": "Bearer abc"})
    assert response.json() == {"token": "abc"}


def test_optional_scheme_gives_none_without_a_token() -> None:
    assert TestClient(token_app()).get("/maybe").json() == {"token": None}


def test_http_bearer_gives_credentials() -> None:
    app = App()

    @app.get("/")
    def home(creds: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> dict[str, str]:
        return {"scheme": creds.scheme, "credentials": creds.credentials}

    client = TestClient(app)
    assert client.get("/").status_code == 401
    response = client.get("/", headers={"Authorization": "bearer t0k"})
    assert response.json() == {"scheme": "Bearer", "credentials": "t0k"}


def test_http_basic_decodes_the_user_and_password() -> None:
    app = App()

    @app.get("/")
    def home(creds: Annotated[HTTPBasicCredentials, Depends(basic)]) -> dict[str, str]:
        return {"user": creds.username, "password": creds.password}

    client = TestClient(app)
    missing = client.get("/")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Basic realm="shop"'
    encoded = base64.b64encode(b"ann:s3:cret").decode()
    response = client.get("/", headers={"Authorization": f"Basic {encoded}"})
    assert response.json() == {"user": "ann", "password": "s3:cret"}


@pytest.mark.parametrize("value", ["Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()])
def test_http_basic_rejects_malformed_credentials(value: str) -> None:
    app = App()

    @app.get("/")
    def home(creds: Annotated[HTTPBasicCredentials, Depends(basic)]) -> None: ...

    response = TestClient(app).get("/", headers={"Authorization": value})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid authentication credentials"}


def api_key_app() -> App:
    app = App()

    @app.get("/header")
    def by_header(key: Annotated[str, Depends(header_key)]) -> str:
        return key

    @app.get("/query")
    def by_query(key: Annotated[str | None, Depends(query_key)]) -> str | None:
        return key

    @app.get("/cookie")
    def by_cookie(key: Annotated[str, Depends(cookie_key)]) -> str:
        return key

    return app


def test_api_keys_are_read_from_header_query_and_cookie() -> None:
    client = TestClient(api_key_app())
    assert client.get("/header", headers={"x-api-key": "h"}).json() == "h"
    assert client.get("/query?api_key=q").json() == "q"
    client.cookies.set("session", "c")
    assert client.get("/cookie").json() == "c"


def test_missing_api_key_is_401_unless_optional() -> None:
    client = TestClient(api_key_app())
    response = client.get("/header")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "APIKey"
    assert client.get("/cookie").status_code == 401
    assert client.get("/query").json() is None


def test_password_request_form_reads_the_oauth2_form() -> None:
    app = App()

    @app.post("/token")
    def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
        return {"user": form.username, "password": form.password, "scopes": form.scopes}

    client = TestClient(app)
    data = {"username": "ann", "password": "pw", "scope": "read write", "grant_type": "password"}
    assert client.post("/token", data=data).json() == {
        "user": "ann",
        "password": "pw",
        "scopes": ["read", "write"],
    }
    assert client.post("/token", data={**data, "grant_type": "magic"}).status_code == 422
    doc = app.openapi()
    validate(doc)
    body = doc["paths"]["/token"]["post"]["requestBody"]
    assert list(body["content"]) == ["application/x-www-form-urlencoded"]


def test_schemes_are_documented_in_components_and_operations() -> None:
    app = api_key_app()

    @app.get("/basic")
    def with_basic(creds: Annotated[HTTPBasicCredentials, Depends(basic)]) -> None: ...

    @app.get("/bearer")
    def with_bearer(creds: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> None: ...

    @app.get("/oauth")
    def with_oauth(token: Annotated[str, Depends(oauth2)]) -> None: ...

    doc = app.openapi()
    validate(doc)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert schemes["APIKeyQuery"] == {"type": "apiKey", "in": "query", "name": "api_key"}
    assert schemes["session"] == {"type": "apiKey", "in": "cookie", "name": "session"}
    assert schemes["HTTPBasic"] == {"type": "http", "scheme": "basic"}
    assert schemes["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT",
    }
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"] == {
        "tokenUrl": "/token",
        "scopes": {"read": "Read things"},
    }
    paths = doc["paths"]
    assert paths["/header"]["get"]["security"] == [{"APIKeyHeader": []}]
    assert paths["/query"]["get"]["security"] == [{"APIKeyQuery": []}, {}]


def test_schemes_used_through_other_dependencies_are_found() -> None:
    app = App()

    def current_user(token: Annotated[str, Depends(oauth2)]) -> str:
        return token

    @app.get("/me", dependencies=[Depends(current_user)])
    def me() -> None: ...

    assert app.openapi()["paths"]["/me"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]


@security_scheme("admin", {"type": "http", "scheme": "bearer"}, scopes=["admin"])
def require_admin() -> None:
    return None


def test_security_scheme_decorator_marks_a_function_dependency() -> None:
    app = App()

    @app.get("/admin", dependencies=[Depends(require_admin)])
    def admin() -> None: ...

    doc = app.openapi()
    validate(doc)
    assert doc["paths"]["/admin"]["get"]["security"] == [{"admin": ["admin"]}]
    assert doc["components"]["securitySchemes"]["admin"]["scheme"] == "bearer"


first_key = APIKeyHeader(name="a", scheme_name="key")
second_key = APIKeyHeader(name="b", scheme_name="key")


def test_two_different_schemes_with_one_name_are_a_configuration_error() -> None:
    app = App()

    @app.get("/a")
    def a(key: Annotated[str, Depends(first_key)]) -> None: ...

    @app.get("/b")
    def b(key: Annotated[str, Depends(second_key)]) -> None: ...

    with pytest.raises(ConfigurationError, match="both named 'key'"):
        app.openapi()


def test_oauth2_refresh_url_is_documented() -> None:
    scheme = OAuth2PasswordBearer(tokenUrl="/token", refreshUrl="/refresh").scheme
    assert scheme["flows"]["password"]["refreshUrl"] == "/refresh"


optional_bearer = HTTPBearer(auto_error=False)
optional_basic = HTTPBasic(auto_error=False)


def test_optional_http_schemes_give_none() -> None:
    app = App()

    @app.get("/")
    def home(
        token: Annotated[HTTPAuthorizationCredentials | None, Depends(optional_bearer)],
        creds: Annotated[HTTPBasicCredentials | None, Depends(optional_basic)],
    ) -> list[Any]:
        return [token, creds]

    assert TestClient(app).get("/").json() == [None, None]
