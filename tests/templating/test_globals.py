"""What every template can use: request, url_for, static_url, csrf, csp_nonce."""

from __future__ import annotations

import re

import pytest
from tests.templating.helpers import WriteTemplates
from tests.templating.helpers import session_middleware

from trivium import App
from trivium import Request
from trivium.csrf import CSRFMiddleware
from trivium.middleware import Middleware
from trivium.middleware import SecurityHeadersMiddleware
from trivium.responses import HTMLResponse
from trivium.staticfiles import StaticFiles
from trivium.templating import Templates
from trivium.templating import render
from trivium.testing import TestClient


def page_app(write_templates: WriteTemplates, source: str, **app_options: object) -> App:
    app = App(openapi_url=None, **app_options)  # type: ignore[arg-type]
    Templates(write_templates({"page.html": source})).init_app(app)

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        return await render(request, "page.html")

    @app.get("/users/{user_id}", name="user")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    return app


def test_url_for_builds_paths(write_templates: WriteTemplates) -> None:
    app = page_app(write_templates, "{{ url_for('user', user_id=7) }} {{ request.url.path }}")
    assert TestClient(app).get("/page").text == "/users/7 /page"


@pytest.mark.asgi_only("RSGI has no root_path")
def test_url_for_includes_the_root_path(write_templates: WriteTemplates) -> None:
    app = page_app(write_templates, "{{ url_for('user', user_id=7) }} {{ request.url.path }}")
    assert TestClient(app, root_path="/shop").get("/page").text == "/shop/users/7 /shop/page"


def test_url_for_an_unknown_route_fails_loudly(write_templates: WriteTemplates) -> None:
    app = page_app(write_templates, "{{ url_for('nope') }}")
    response = TestClient(app, raise_server_exceptions=False).get("/page")
    assert response.status_code == 500


def test_static_url_adds_the_content_version(write_templates: WriteTemplates) -> None:
    static = write_templates({"app.css": "body{}"}, folder="static")
    app = page_app(write_templates, "{{ static_url('app.css') }} {{ static_url('gone.css') }}")
    app.mount("/static", StaticFiles(directory=static), name="static")
    text = TestClient(app).get("/page").text
    assert re.fullmatch(r"/static/app\.css\?v=[0-9a-f]{12} /static/gone\.css", text)


def test_csp_nonce_comes_from_the_security_headers(write_templates: WriteTemplates) -> None:
    source = '<script nonce="{{ csp_nonce }}">go()</script>'
    csp = Middleware(SecurityHeadersMiddleware, csp={"script-src": "self"})
    response = TestClient(page_app(write_templates, source, middleware=[csp])).get("/page")
    nonce = re.fullmatch(r'<script nonce="([A-Za-z0-9_-]+)">go\(\)</script>', response.text)
    assert nonce is not None
    assert f"'nonce-{nonce.group(1)}'" in response.headers["content-security-policy"]


def test_csp_nonce_is_empty_without_a_policy(write_templates: WriteTemplates) -> None:
    app = page_app(write_templates, "[{{ csp_nonce }}]")
    assert TestClient(app).get("/page").text == "[]"


def test_included_templates_see_the_request(write_templates: WriteTemplates) -> None:
    directory = write_templates(
        {
            "page.html": '{% include "nav.html" %}|{% import "m.html" as m with context %}{{ m.link() }}',
            "nav.html": "{{ url_for('user', user_id=1) }}",
            "m.html": "{% macro link() %}<a href=\"{{ url_for('user', user_id=2) }}\">2</a>{% endmacro %}",
        }
    )
    app = App(openapi_url=None)
    Templates(directory).init_app(app)

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        return await render(request, "page.html")

    @app.get("/users/{user_id}", name="user")
    async def user(user_id: int) -> None: ...

    assert TestClient(app).get("/page").text == '/users/1|<a href="/users/2">2</a>'


def test_macros_imported_without_context_say_so(write_templates: WriteTemplates) -> None:
    directory = write_templates(
        {
            "page.html": '{% import "m.html" as m %}{{ m.link() }}',
            "m.html": "{% macro link() %}{{ url_for('x') }}{% endmacro %}",
        }
    )
    templates = Templates(directory)
    app = App(openapi_url=None)

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        return await templates.render(request, "page.html")

    with pytest.raises(RuntimeError, match=r"url_for\(\) needs the request .* 'with context'"):
        TestClient(app).get("/page")


@pytest.mark.parametrize(
    ("options", "field", "other"),
    [({}, "csrf_token", "_token"), ({"field_name": "_token"}, "_token", "csrf_token")],
)
def test_csrf_token_and_input_round_trip(
    write_templates: WriteTemplates, options: dict[str, str], field: str, other: str
) -> None:
    # csrf_input() names the field the middleware reads, its default or `field_name`.
    app = App(
        middleware=[session_middleware(), Middleware(CSRFMiddleware, **options)],
        openapi_url=None,
    )
    Templates(write_templates({"form.html": "{{ csrf_input() }}|{{ csrf_token() }}"})).init_app(app)

    @app.get("/form")
    async def form(request: Request) -> HTMLResponse:
        return await render(request, "form.html")

    @app.post("/submit")
    async def submit() -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)
    text = client.get("/form").text
    found = re.fullmatch(rf'<input type="hidden" name="{field}" value="([^"]+)">\|(.+)', text)
    assert found is not None
    # Each call masks the session's secret afresh (against BREACH); both tokens verify.
    for token in found.groups():
        assert client.post("/submit", data={field: token}).json() == {"ok": True}
    assert client.post("/submit", data={field: "forged"}).status_code == 403
    assert client.post("/submit", data={other: found.group(1)}).status_code == 403
