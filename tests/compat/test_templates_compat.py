"""`Jinja2Templates` as Starlette's: `env=`, context processors, `url_for`, template and context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import jinja2
import pytest

from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi import Request
from trivium.compat.fastapi.responses import HTMLResponse
from trivium.compat.fastapi.staticfiles import StaticFiles
from trivium.compat.fastapi.templating import Jinja2Templates
from trivium.compat.fastapi.testclient import TestClient

PAGE = "<a href='{{ url_for('page') }}'>{{ site }}</a>"


def page_app(templates: Jinja2Templates, context: dict[str, Any] | None = None) -> FastAPI:
    app = FastAPI()

    @app.get("/page", response_class=HTMLResponse)
    def page(request: Request) -> Any:
        return templates.TemplateResponse(request, "page.html", context)

    return app


def shop(request: Any) -> dict[str, str]:
    return {"site": "Shop"}


def test_templates_render_from_an_environment_of_your_own() -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": "{{ site }}"}), autoescape=True)
    templates = Jinja2Templates(env=env)
    assert templates.env is env
    assert TestClient(page_app(templates, {"site": "Mine"})).get("/page").text == "Mine"


def test_context_processors_add_to_every_context() -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": PAGE}), autoescape=True)
    templates = Jinja2Templates(env=env, context_processors=[shop])
    response = TestClient(page_app(templates)).get("/page")
    assert response.text == "<a href='http://testserver/page'>Shop</a>"


def test_a_context_processor_wins_over_the_context_given() -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": "{{ site }}"}), autoescape=True)
    templates = Jinja2Templates(env=env, context_processors=[shop])
    assert TestClient(page_app(templates, {"site": "Given"})).get("/page").text == "Shop"


def test_url_for_gives_absolute_urls_of_routes_and_static_files(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "app.css").write_text("a {}")
    (tmp_path / "templates" / "item.html").write_text(
        "{{ url_for('item', id=id) }} {{ url_for('static', path='/app.css').path }}"
    )
    templates = Jinja2Templates(directory=tmp_path / "templates")
    app = FastAPI()
    app.mount("/static", StaticFiles(directory=tmp_path / "static"), name="static")

    @app.get("/items/{id}", response_class=HTMLResponse)
    def item(request: Request, id: str) -> Any:
        return templates.TemplateResponse(request=request, name="item.html", context={"id": id})

    response = TestClient(app).get("/items/7")
    assert response.text == "http://testserver/items/7 /static/app.css"


def test_a_template_response_keeps_its_template_and_context() -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": PAGE}), autoescape=True)
    templates = Jinja2Templates(env=env, context_processors=[shop])
    request = Request({"type": "http", "path": "/page", "headers": []}, receive=None)  # type: ignore[arg-type]
    response: Any = templates.TemplateResponse(request, "page.html", {"id": 1})
    assert response.template.name == "page.html"
    assert response.context == {"id": 1, "request": request, "site": "Shop"}


def test_the_template_and_context_reach_a_client_that_asks_for_them() -> None:
    # Starlette's test client asks through the `http.response.debug` extension; this
    # drives the app as such a client would.
    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": PAGE}), autoescape=True)
    app = page_app(Jinja2Templates(env=env, context_processors=[shop]))
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/page",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "extensions": {"http.response.debug": {}},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asgi: Any = app
    anyio.run(asgi, scope, receive, send)
    debug = next(message for message in sent if message["type"] == "http.response.debug")
    assert debug["info"]["template"].name == "page.html"
    assert sorted(debug["info"]["context"]) == ["request", "site"]


@pytest.mark.parametrize("arguments", [{}, {"directory": "templates", "env": jinja2.Environment()}])
def test_templates_take_a_directory_or_an_environment(arguments: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="either directory"):
        Jinja2Templates(**arguments)
