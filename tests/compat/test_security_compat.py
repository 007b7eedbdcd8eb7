"""`fastapi.security` through the compat paths: FastAPI's wording where trivium's differs."""

from __future__ import annotations

from typing import Annotated

from trivium import App
from trivium.compat.fastapi import Depends
from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi.security import HTTPBasic
from trivium.compat.fastapi.security import HTTPBasicCredentials
from trivium.compat.fastapi.testclient import TestClient
from trivium.openapi import HTTPBasic as TriviumHTTPBasic

FASTAPI_BASIC = HTTPBasic()
TRIVIUM_BASIC = TriviumHTTPBasic()


def test_malformed_basic_credentials_are_not_authenticated_as_in_fastapi() -> None:
    app = FastAPI()

    @app.get("/me")
    def me(credentials: Annotated[HTTPBasicCredentials, Depends(FASTAPI_BASIC)]) -> str:
        return credentials.username

    client = TestClient(app)
    for header in ("Basic notabase64token", "Basic am9obnNlY3JldA=="):  # no colon
        response = client.get("/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Basic"
        assert response.json() == {"detail": "Not authenticated"}
    ok = client.get("/me", auth=("john", "secret"))
    assert ok.json() == "john"


def test_trivium_basic_keeps_its_own_wording() -> None:
    app = App()

    @app.get("/me")
    def me(credentials: Annotated[HTTPBasicCredentials, Depends(TRIVIUM_BASIC)]) -> str:
        return credentials.username

    response = TestClient(app).get("/me", headers={"Authorization": "Basic @@@"})
    assert response.json() == {"detail": "Invalid authentication credentials"}
