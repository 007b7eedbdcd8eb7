"""An app's own `forms/form.html` drawing `{{ form }}` follows the form's method for CSRF.

The packaged template leaves the CSRF field out of GET forms (the token would end up in
the URL); an override that draws the fields with `{{ form }}` must do the same.
"""

from __future__ import annotations

from pathlib import Path

from trivium import App
from trivium import Request
from trivium.csrf import CSRF
from trivium.forms import Form
from trivium.forms import FormRenderer
from trivium.responses import HTMLResponse
from trivium.sessions import Sessions
from trivium.testing import TestClient

SECRET = "forms-review-d-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

OVERRIDE = """<form class="mine" method="{{ method }}" action="{{ action }}">
{{ form }}
<button>{{ submit }}</button>
</form>"""


def _app(folder: Path) -> App:
    (folder / "forms").mkdir()
    (folder / "forms" / "form.html").write_text(OVERRIDE)
    renderer = FormRenderer([folder])

    class Search(Form):
        form_renderer = renderer
        q: str = ""

    app = App(plugins=[Sessions(secret_key=SECRET), CSRF()])

    @app.get("/search")
    async def search(request: Request) -> HTMLResponse:
        form = Search.bind(request.query_params, request=request)
        return HTMLResponse(form.render("/search", method="get", submit="Search"))

    @app.get("/post")
    async def post(request: Request) -> HTMLResponse:
        form = Search.empty(request=request)
        page = f"{form.render('/search', method='post')}<div>{form}</div>"
        return HTMLResponse(page)

    return app


def test_an_overridden_form_template_draws_no_csrf_field_in_a_get_form(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path)) as client:
        answer = client.get("/search", params={"q": "hello"})
    assert answer.status_code == 200, answer.text
    assert '<form class="mine" method="get"' in answer.text
    assert 'value="hello"' in answer.text
    assert "csrf_token" not in answer.text
    assert "set-cookie" not in answer.headers


def test_an_overridden_form_template_still_draws_it_in_a_post_form(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path)) as client:
        answer = client.get("/post")
    assert answer.status_code == 200, answer.text
    # In the POST form, and in `{{ form }}` drawn outside `render()` afterwards.
    assert answer.text.count('<input type="hidden" name="csrf_token"') == 2
