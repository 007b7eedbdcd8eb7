"""Secret fields: a 422 answer never echoes a password back."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel
from pydantic import Field
from pydantic import SecretStr

from trivium import App
from trivium import Body
from trivium import Form
from trivium import Query
from trivium.params import Secret
from trivium.params import redact_secret_inputs
from trivium.testing import TestClient

HIDDEN = "hunter2-very-secret"


class Credentials(BaseModel):
    email: str
    password: Annotated[str, Secret()] = Field(max_length=8)
    pin: SecretStr | None = None


class Signup(BaseModel):
    credentials: Credentials
    friends: list[Credentials] = []


def _app() -> App:
    app = App()

    @app.post("/login")
    async def login(body: Credentials) -> str:
        return "ok"

    @app.post("/signup")
    async def signup(body: Signup) -> str:
        return "ok"

    @app.post("/embedded")
    async def embedded(
        password: Annotated[str, Secret(), Body(max_length=3)], name: Annotated[str, Body()]
    ) -> str:
        return "ok"

    @app.post("/form")
    async def form(password: Annotated[str, Secret(), Form(max_length=3)]) -> str:
        return "ok"

    @app.get("/search")
    async def search(q: Annotated[str, Query(max_length=3)]) -> str:
        return "ok"

    return app


def test_a_too_long_secret_field_is_reported_without_its_input() -> None:
    with TestClient(_app()) as client:
        response = client.post("/login", json={"email": "a@example.com", "password": HIDDEN})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert error["type"] == "string_too_long"
    assert "input" not in error
    assert HIDDEN not in response.text


def test_a_missing_field_echoes_the_body_without_its_secrets() -> None:
    with TestClient(_app()) as client:
        response = client.post("/login", json={"password": "short", "pin": HIDDEN})
    [error] = response.json()["detail"]
    assert error["type"] == "missing"
    assert error["input"] == {}
    assert HIDDEN not in response.text
    assert "short" not in response.text


def test_secrets_nested_in_models_and_lists_are_not_echoed() -> None:
    body = {
        "credentials": {"email": 5, "password": HIDDEN},
        "friends": [{"email": "b@example.com", "password": "x", "pin": 42}, "oops"],
    }
    with TestClient(_app()) as client:
        response = client.post("/signup", json=body)
    assert response.status_code == 422
    assert HIDDEN not in response.text
    errors = {tuple(e["loc"]): e for e in response.json()["detail"]}
    assert errors[("body", "credentials", "email")]["input"] == 5  # not secret: kept
    assert "input" not in errors[("body", "credentials", "password")]
    assert "input" not in errors[("body", "friends", 0, "pin")]
    assert errors[("body", "friends", 1)]["input"] == "oops"


def test_embedded_body_and_form_secrets_are_not_echoed() -> None:
    with TestClient(_app()) as client:
        embedded = client.post("/embedded", json={"password": HIDDEN, "name": "x"})
        form = client.post("/form", data={"password": HIDDEN})
    for response in (embedded, form):
        assert response.status_code == 422
        assert "input" not in response.json()["detail"][0]
        assert HIDDEN not in response.text


def test_other_fields_keep_their_input() -> None:
    with TestClient(_app()) as client:
        response = client.get("/search", params={"q": "long query"})
    assert response.json()["detail"][0]["input"] == "long query"


def test_redact_secret_inputs_works_on_errors_of_a_model_validated_by_hand() -> None:
    errors = [
        {"type": "string_too_long", "loc": ("password",), "msg": "too long", "input": HIDDEN},
        {"type": "missing", "loc": ("email",), "msg": "missing", "input": {"password": HIDDEN}},
        {"type": "int_type", "loc": ("unknown", 0), "msg": "bad", "input": "kept"},
    ]
    redacted = redact_secret_inputs(errors, Credentials)
    assert "input" not in redacted[0]
    assert redacted[1]["input"] == {}
    assert redacted[2]["input"] == "kept"
