from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from trivium import App
from trivium import Depends
from trivium import Request
from trivium.csrf import CSRFMiddleware
from trivium.forms import BoundForm
from trivium.forms import Form
from trivium.forms import Textarea
from trivium.http import UploadFile
from trivium.middleware import Middleware
from trivium.responses import HTMLResponse
from trivium.responses import RedirectResponse
from trivium.sessions import SessionMiddleware
from trivium.testing import TestClient

SECRET = "forms-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


class ArticleForm(Form):
    title: Annotated[str, Field(max_length=20)]
    body: Annotated[str, Textarea()] = ""
    published: bool = False


class AvatarForm(Form):
    name: str
    picture: UploadFile
    thumbnail: UploadFile | None = None


def make_app() -> App:
    app = App()
    saved: list[ArticleForm] = []

    @app.get("/articles/new")
    async def new_article() -> HTMLResponse:
        return HTMLResponse(ArticleForm.empty().render("/articles/new"))

    @app.post("/articles/new")
    async def create(form: BoundForm[ArticleForm]) -> HTMLResponse | RedirectResponse:
        if not form.is_valid:
            return HTMLResponse(form.render("/articles/new"), status_code=422)
        saved.append(form.data)
        return RedirectResponse(f"/articles/{len(saved)}", status_code=303)

    @app.get("/edit")
    async def edit(
        form: Annotated[BoundForm[ArticleForm], Depends(ArticleForm.depends())],
    ) -> HTMLResponse:
        return HTMLResponse(form.render())

    @app.post("/avatar")
    async def avatar(form: BoundForm[AvatarForm]) -> dict[str, object]:
        if not form.is_valid:
            return {"errors": form.errors}
        data = form.data
        content = await data.picture.read()
        return {
            "name": data.name,
            "filename": data.picture.filename,
            "content": content.decode(),
            "thumbnail": data.thumbnail is not None,
        }

    return app


def test_get_renders_the_empty_form() -> None:
    response = TestClient(make_app()).get("/articles/new")
    assert response.status_code == 200
    assert response.text.startswith('<form method="post" action="/articles/new">')
    assert '<input type="text" name="title" id="id_title" maxlength="20" required>' in (
        response.text
    )


def test_invalid_post_redisplays_with_errors_and_values_and_422() -> None:
    client = TestClient(make_app())
    response = client.post(
        "/articles/new", data={"title": "x" * 25, "body": "<keep me>", "published": "on"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "<li>String should have at most 20 characters.</li>" in response.text
    assert f'value="{"x" * 25}"' in response.text
    assert "&lt;keep me&gt;</textarea>" in response.text
    assert 'name="published" id="id_published" value="true" checked>' in response.text


def test_missing_fields_are_reported_in_html_not_as_json() -> None:
    response = TestClient(make_app()).post("/articles/new", data={})
    assert response.status_code == 422
    assert "<li>This field is required.</li>" in response.text


def test_valid_post_redirects_with_303() -> None:
    client = TestClient(make_app())
    response = client.post("/articles/new", data={"title": "Hello"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/articles/1"


def test_a_json_body_is_a_415_not_a_500() -> None:
    response = TestClient(make_app()).post("/articles/new", json={"title": "Hello"})
    assert response.status_code == 415
    assert "detail" in response.json()


def test_file_upload_reaches_the_model() -> None:
    response = TestClient(make_app()).post(
        "/avatar",
        data={"name": "Ada"},
        files={"picture": ("ada.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 200
    assert response.json() == {
        "name": "Ada",
        "filename": "ada.txt",
        "content": "hello",
        "thumbnail": False,
    }


def test_an_empty_file_input_counts_as_not_given() -> None:
    response = TestClient(make_app()).post(
        "/avatar",
        data={"name": "Ada"},
        files={"picture": ("", b"", "application/octet-stream")},
    )
    assert response.json() == {"errors": {"picture": ["This field is required."]}}


def test_openapi_documents_the_form_fields() -> None:
    schema = TestClient(make_app()).get("/openapi.json").json()
    body = schema["paths"]["/articles/new"]["post"]["requestBody"]["content"]
    form_schema = body["application/x-www-form-urlencoded"]["schema"]
    assert set(form_schema["properties"]) == {"title", "body", "published"}
    assert "multipart/form-data" in schema["paths"]["/avatar"]["post"]["requestBody"]["content"]


def make_csrf_app(field_name: str = "csrf_token") -> App:
    app = App(
        middleware=[
            Middleware(SessionMiddleware, secret_key=SECRET),
            Middleware(CSRFMiddleware, field_name=field_name),
        ]
    )

    @app.route("/signup", methods=["GET", "POST"])
    async def signup(
        form: Annotated[BoundForm[ArticleForm], Depends(ArticleForm.depends())],
    ) -> HTMLResponse | RedirectResponse:
        if form.is_valid:
            return RedirectResponse("/done", status_code=303)
        return HTMLResponse(form.render(), status_code=422 if form.is_bound else 200)

    @app.post("/param")
    async def param(request: Request, form: BoundForm[ArticleForm]) -> HTMLResponse:
        return HTMLResponse(str(form.with_request(request)), status_code=422)

    return app


def token_in(html: str, field: str = "csrf_token") -> str:
    found = re.search(rf'<input type="hidden" name="{field}" value="([^"]+)">', html)
    assert found is not None, html
    return found.group(1)


def test_csrf_field_is_drawn_when_sessions_and_csrf_run() -> None:
    client = TestClient(make_csrf_app())
    page = client.get("/signup")
    assert page.status_code == 200
    token = token_in(page.text)
    response = client.post(
        "/signup", data={"title": "Hi", "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303


def test_the_csrf_field_follows_the_middlewares_field_name() -> None:
    client = TestClient(make_csrf_app(field_name="_token"))
    token = token_in(client.get("/signup").text, "_token")
    assert "csrf_token" not in client.get("/signup").text
    assert client.post("/signup", data={"title": "Hi", "csrf_token": token}).status_code == 403
    response = client.post("/signup", data={"title": "Hi", "_token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_invalid_post_through_the_dependency_keeps_a_csrf_field() -> None:
    client = TestClient(make_csrf_app())
    token = token_in(client.get("/signup").text)
    response = client.post("/signup", data={"title": "", "csrf_token": token})
    assert response.status_code == 422
    assert token_in(response.text)
    assert "<li>This field is required.</li>" in response.text


def test_a_post_without_the_token_is_refused_by_the_csrf_middleware() -> None:
    client = TestClient(make_csrf_app())
    client.get("/signup")
    assert client.post("/signup", data={"title": "Hi"}).status_code == 403


def test_with_request_adds_the_csrf_field_to_a_form_parameter() -> None:
    client = TestClient(make_csrf_app())
    token = token_in(client.get("/signup").text)
    response = client.post("/param", data={"title": "", "csrf_token": token})
    assert token_in(response.text)


def test_no_csrf_field_without_a_session() -> None:
    response = TestClient(make_app()).get("/edit")
    assert response.status_code == 200
    assert "csrf_token" not in response.text
