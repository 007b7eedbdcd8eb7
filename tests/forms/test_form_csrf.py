"""CSRF and forms: no token in GET forms; a `BoundForm` parameter alone gets CSRF."""

from __future__ import annotations

import re

from trivium import App
from trivium import Request
from trivium.csrf import CSRF
from trivium.forms import BoundForm
from trivium.forms import Form
from trivium.responses import HTMLResponse
from trivium.sessions import Sessions
from trivium.testing import TestClient

SECRET = "forms-csrf-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


class Search(Form):
    q: str = ""


class Note(Form):
    text: str


def make_app() -> App:
    app = App(plugins=[Sessions(secret_key=SECRET), CSRF()])

    @app.get("/search")
    async def search(request: Request) -> HTMLResponse:
        form = Search.bind(request.query_params, request=request)
        return HTMLResponse(form.render("/search", method="get", submit="Search"))

    @app.get("/search-post")
    async def search_post(request: Request) -> HTMLResponse:
        return HTMLResponse(Search.empty(request=request).render("/search", method="POST"))

    @app.get("/note")
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(Note.empty(request=request).render("/note"))

    @app.post("/note")
    async def note(form: BoundForm[Note]) -> HTMLResponse:
        if form.is_valid:
            return HTMLResponse(f"saved {form.data.text}")
        return HTMLResponse(form.render("/note"), status_code=422)

    return app


def token_in(html: str) -> str:
    found = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)">', html)
    assert found is not None, html
    return found.group(1)


def test_a_get_form_draws_no_csrf_field_and_starts_no_session() -> None:
    client = TestClient(make_app())
    response = client.get("/search?q=hello")
    assert response.status_code == 200
    assert 'value="hello"' in response.text
    assert "csrf_token" not in response.text
    assert "set-cookie" not in response.headers


def test_a_post_form_still_draws_the_csrf_field() -> None:
    client = TestClient(make_app())
    assert token_in(client.get("/search-post").text)


def test_a_route_taking_only_a_bound_form_is_csrf_checked() -> None:
    client = TestClient(make_app())
    client.get("/note")
    refused = client.post("/note", data={"text": "hi"})
    assert refused.status_code == 403


def test_a_route_taking_only_a_bound_form_redisplays_the_csrf_field() -> None:
    client = TestClient(make_app())
    token = token_in(client.get("/note").text)
    response = client.post("/note", data={"text": "", "csrf_token": token})
    assert response.status_code == 422
    redisplayed = token_in(response.text)  # masked anew on each page
    saved = client.post("/note", data={"text": "hi", "csrf_token": redisplayed})
    assert saved.status_code == 200
    assert saved.text == "saved hi"
