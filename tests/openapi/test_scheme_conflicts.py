"""Two different security schemes under one name: refused when the app starts."""

from __future__ import annotations

from typing import Annotated

import pytest

from trivium import App
from trivium import Depends
from trivium.errors import ConfigurationError
from trivium.openapi import OAuth2PasswordBearer
from trivium.openapi import security_schemes
from trivium.testing import TestClient

with_scopes = OAuth2PasswordBearer(tokenUrl="/token", scopes={"read": "Read things"})
without_scopes = OAuth2PasswordBearer(tokenUrl="/token", auto_error=False)


def two_schemes_app(*, hide_second: bool = False) -> App:
    app = App()

    @app.get("/mine")
    def mine(token: Annotated[str, Depends(with_scopes)]) -> str:
        return token

    @app.get("/maybe", include_in_schema=not hide_second)
    def maybe(token: Annotated[str | None, Depends(without_scopes)]) -> str | None:
        return token

    return app


def test_a_scheme_conflict_stops_the_app_when_it_is_built() -> None:
    # The app is built at start-up (here: by the first request), before any document.
    client = TestClient(two_schemes_app())
    with pytest.raises(ConfigurationError, match=r"both named 'OAuth2PasswordBearer'.*GET /maybe"):
        client.get("/mine", headers={"Authorization": "Bearer abc"})


def test_the_error_names_the_stable_code() -> None:
    with pytest.raises(ConfigurationError) as caught:
        two_schemes_app().build()
    assert caught.value.code == "openapi-security-scheme-conflict"


def test_a_route_left_out_of_the_document_may_use_another_scheme() -> None:
    client = TestClient(two_schemes_app(hide_second=True))
    assert client.get("/maybe").json() is None
    document = client.get("/openapi.json").json()
    scopes = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert scopes["password"]["scopes"] == {"read": "Read things"}


def test_a_scheme_the_app_declares_under_the_name_replaces_both() -> None:
    app = two_schemes_app()
    declared = {"type": "http", "scheme": "bearer"}
    security_schemes(app)["OAuth2PasswordBearer"] = declared
    response = TestClient(app).get("/openapi.json")
    assert response.json()["components"]["securitySchemes"]["OAuth2PasswordBearer"] == declared


def test_an_app_without_a_document_does_not_check() -> None:
    app = App(openapi_url=None)

    @app.get("/mine")
    def mine(token: Annotated[str, Depends(with_scopes)]) -> str:
        return token

    @app.get("/maybe")
    def maybe(token: Annotated[str | None, Depends(without_scopes)]) -> str | None:
        return token

    assert TestClient(app).get("/maybe").json() is None
