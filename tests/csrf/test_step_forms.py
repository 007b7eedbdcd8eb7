"""The CSRF plugin's step reads a urlencoded form once, for the token and for the handler."""

from __future__ import annotations

from typing import Annotated

from trivium import App
from trivium import Form
from trivium import Request
from trivium.csrf import CSRF
from trivium.csrf import get_csrf_token
from trivium.http import FormLimits
from trivium.http import Limits
from trivium.sessions import Sessions
from trivium.testing import TestClient

KEY = "k" * 48


def make_app() -> App:
    app = App(
        openapi_url=None,
        plugins=[Sessions(secret_key=KEY), CSRF()],
        limits=Limits(form=FormLimits(max_fields=3)),
    )

    @app.get("/token")
    async def token(request: Request) -> dict[str, str]:
        return {"token": get_csrf_token(request)}

    @app.post("/form")
    async def form(request: Request, name: Annotated[str, Form()]) -> dict[str, object]:
        parsed = await request.form()
        return {"name": name, "fields": sorted(parsed.keys())}

    return app


def logged_in() -> tuple[TestClient, str]:
    client = TestClient(make_app())
    return client, client.get("/token").json()["token"]


def test_the_token_and_the_fields_come_from_one_parse() -> None:
    client, token = logged_in()
    response = client.post("/form", data={"name": "Ada Lovelace", "csrf_token": token})
    assert response.status_code == 200
    assert response.json() == {"name": "Ada Lovelace", "fields": ["csrf_token", "name"]}


def test_a_missing_or_foreign_token_is_refused() -> None:
    client, _ = logged_in()
    response = client.post("/form", data={"name": "Ada"})
    assert (response.status_code, response.json()) == (403, {"detail": "CSRF token missing"})
    response = client.post(
        "/form", data={"name": "Ada", "csrf_token": "jeton-\u00e9t\u00e9-\u2603"}
    )
    assert (response.status_code, response.json()) == (403, {"detail": "CSRF token incorrect"})


def test_the_form_limits_apply_before_the_token_is_read() -> None:
    client, token = logged_in()
    fields = {"csrf_token": token, "name": "Ada", "a": "1", "b": "2"}
    response = client.post("/form", data=fields)
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many form fields: max_fields is 3"}
