"""Rendering: context, autoescape, loaders and overrides, async, blocks, sync handlers."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from tests.templating.helpers import WriteTemplates

from trivium import App
from trivium import Request
from trivium.errors import ConfigurationError
from trivium.responses import HTMLResponse
from trivium.templating import TemplateResponse
from trivium.templating import Templates
from trivium.templating import render
from trivium.testing import TestClient

PAGE = """{% extends "layout.html" %}
{% block title %}Items{% endblock %}
{% block items %}<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>{% endblock %}
"""
LAYOUT = (
    "<title>{% block title %}{% endblock %}</title><main>{% block items %}{% endblock %}</main>"
)


def make_app(templates: Templates) -> App:
    app = App(openapi_url=None)
    templates.init_app(app)

    @app.get("/page")
    async def page(request: Request, block: str | None = None) -> HTMLResponse:
        return await render(request, "page.html", {"items": ["a", "<b>"]}, block=block)

    return app


def test_render_fills_the_context_and_answers_html(write_templates: WriteTemplates) -> None:
    directory = write_templates({"page.html": PAGE, "layout.html": LAYOUT})
    response = TestClient(make_app(Templates(directory))).get("/page")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == (
        "<title>Items</title><main><ul><li>a</li><li>&lt;b&gt;</li></ul></main>"
    )


def test_script_in_the_context_is_escaped(write_templates: WriteTemplates) -> None:
    directory = write_templates({"x.html": "<p>{{ value }}</p>", "x.txt": "{{ value }}"})
    templates = Templates(directory)
    app = App(openapi_url=None)

    @app.get("/{name}")
    async def show(request: Request, name: str) -> HTMLResponse:
        return await templates.render(request, name, {"value": "<script>alert(1)</script>"})

    client = TestClient(app)
    assert client.get("/x.html").text == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    # Plain-text templates (emails, robots.txt) are not HTML, so they are not escaped.
    assert client.get("/x.txt").text == "<script>alert(1)</script>"


def test_string_templates_are_escaped_too() -> None:
    template = Templates(None).environment.from_string("{{ value }}")
    assert template.render(value="<i>") == "&lt;i&gt;"  # a sync environment is not needed


def test_status_and_headers_are_passed_on(write_templates: WriteTemplates) -> None:
    templates = Templates(write_templates({"created.html": "made {{ name }}"}))
    app = App(openapi_url=None)

    @app.post("/things")
    async def create(request: Request) -> HTMLResponse:
        return await templates.render(
            request, "created.html", {"name": "it"}, status_code=201, headers={"x-id": "7"}
        )

    response = TestClient(app).post("/things")
    assert (response.status_code, response.text, response.headers["x-id"]) == (201, "made it", "7")


def test_app_templates_override_a_package_template(write_templates: WriteTemplates) -> None:
    app_dir = write_templates({"errors/404.html": "custom {{ status_code }}"})
    templates = Templates(app_dir, packages=["trivium.templating"])
    app = App(openapi_url=None)

    @app.get("/shipped/{status}")
    async def shipped(request: Request, status: int) -> HTMLResponse:
        context = {"status_code": status, "title": "T", "detail": None}
        return await templates.render(request, f"errors/{status}.html", context)

    client = TestClient(app)
    assert client.get("/shipped/404").text == "custom 404"
    assert "<h1>" in client.get("/shipped/403").text  # the package's own page


def test_first_existing_template_of_a_list_is_used(write_templates: WriteTemplates) -> None:
    templates = Templates(write_templates({"b.html": "b"}))
    app = App(openapi_url=None)

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return await templates.render(request, ["a.html", "b.html"])

    assert TestClient(app).get("/").text == "b"


def test_templates_can_await_async_functions(write_templates: WriteTemplates) -> None:
    async def fetch_count() -> int:
        return 42

    templates = Templates(
        write_templates({"count.html": "{{ fetch_count() }} {{ 'x'|shout }}"}),
        globals={"fetch_count": fetch_count},
        filters={"shout": str.upper},
    )
    app = App(openapi_url=None)

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return await templates.render(request, "count.html")

    assert TestClient(app).get("/").text == "42 X"


def test_a_sync_environment_renders_too(write_templates: WriteTemplates) -> None:
    directory = write_templates({"page.html": PAGE, "layout.html": LAYOUT})
    client = TestClient(make_app(Templates(directory, enable_async=False)))
    assert client.get("/page").text.startswith("<title>Items</title>")
    assert client.get("/page", params={"block": "items"}).text == (
        "<ul><li>a</li><li>&lt;b&gt;</li></ul>"
    )


def test_one_block_renders_alone(write_templates: WriteTemplates) -> None:
    directory = write_templates({"page.html": PAGE, "layout.html": LAYOUT})
    response = TestClient(make_app(Templates(directory))).get("/page", params={"block": "items"})
    assert response.status_code == 200
    assert response.text == "<ul><li>a</li><li>&lt;b&gt;</li></ul>"


def test_a_block_calling_super_renders_its_parent(write_templates: WriteTemplates) -> None:
    directory = write_templates(
        {
            "base.html": "{% block nav %}<a>home</a>{% endblock %}",
            "child.html": '{% extends "base.html" %}{% block nav %}{{ super() }}<a>more</a>{% endblock %}',
        }
    )
    templates = Templates(directory)
    app = App(openapi_url=None)

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return await templates.render(request, "child.html", block="nav")

    assert TestClient(app).get("/").text == "<a>home</a><a>more</a>"


def test_an_unknown_block_is_a_clear_error(write_templates: WriteTemplates) -> None:
    directory = write_templates({"page.html": PAGE, "layout.html": LAYOUT})
    client = TestClient(make_app(Templates(directory)))
    with pytest.raises(
        LookupError, match=r"'page.html' has no block 'nope' \(its blocks: items, title\)"
    ):
        client.get("/page", params={"block": "nope"})
    quiet = TestClient(client.app, raise_server_exceptions=False)
    response = quiet.get("/page", params={"block": "nope"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_a_missing_template_is_a_500_not_a_leak(write_templates: WriteTemplates) -> None:
    templates = Templates(write_templates({}))
    app = App(openapi_url=None)

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return await templates.render(request, "missing.html")

    with pytest.raises(jinja2.TemplateNotFound, match="missing.html"):
        TestClient(app).get("/")
    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})


def test_sync_handlers_return_a_template_response(write_templates: WriteTemplates) -> None:
    templates = Templates(write_templates({"hi.html": "hi {{ name }} {{ request.method }}"}))
    app = App(openapi_url=None)

    @app.get("/hi")
    def hi(request: Request, name: str) -> TemplateResponse:
        return templates.response(request, "hi.html", {"name": name}, headers={"x-sync": "1"})

    client = TestClient(app)
    response = client.get("/hi", params={"name": "Ada ☃"})
    assert response.status_code == 200
    assert response.text == "hi Ada ☃ GET"
    assert response.headers["content-length"] == str(len("hi Ada ☃ GET".encode()))
    assert response.headers["x-sync"] == "1"
    head = client.head("/hi", params={"name": "Ada"})
    assert (head.status_code, head.content) == (200, b"")


def test_a_template_response_that_fails_becomes_a_500(write_templates: WriteTemplates) -> None:
    templates = Templates(write_templates({"bad.html": "{{ 1 // 0 }}"}))
    app = App(openapi_url=None)

    @app.get("/bad")
    def bad(request: Request) -> TemplateResponse:
        return templates.response(request, "bad.html")

    response = TestClient(app, raise_server_exceptions=False).get("/bad")
    assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})


def test_render_without_installed_templates_names_the_fix() -> None:
    app = App(openapi_url=None)

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return await render(request, "x.html")

    with pytest.raises(ConfigurationError, match="templates-not-installed"):
        TestClient(app).get("/")


def test_a_missing_directory_is_refused_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="templates-directory-missing") as info:
        Templates(tmp_path / "nowhere")
    assert info.value.code == "templates-directory-missing"


def test_a_package_without_templates_is_refused(write_templates: WriteTemplates) -> None:
    with pytest.raises(ConfigurationError, match="templates-package-missing"):
        Templates(write_templates({}), packages=["trivium.http"])
    with pytest.raises(ConfigurationError, match="templates-package-missing"):
        Templates(None, packages=["no_such_package_here"])


def test_two_templates_on_one_app_are_refused(write_templates: WriteTemplates) -> None:
    app = App(openapi_url=None)
    first = Templates(write_templates({}))
    first.init_app(app)
    first.init_app(app)  # the same one again is harmless
    assert app.plugin(Templates) is first
    with pytest.raises(ConfigurationError, match="templates-already-installed"):
        Templates(None).init_app(app)


def test_auto_reload_follows_debug_unless_set(write_templates: WriteTemplates) -> None:
    directory = write_templates({})
    quiet, debug, forced = (
        Templates(directory),
        Templates(directory),
        Templates(directory, auto_reload=True),
    )
    quiet.init_app(App(openapi_url=None))
    debug.init_app(App(debug=True, openapi_url=None))
    forced.init_app(App(openapi_url=None))
    assert (quiet.environment.auto_reload, debug.environment.auto_reload) == (False, True)
    assert forced.environment.auto_reload is True
