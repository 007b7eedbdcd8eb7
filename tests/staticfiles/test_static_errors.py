"""A static file's 404 and 405 are answered by the app's handlers and error pages."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path

import pytest

from trivium import App
from trivium import Request
from trivium.compat.fastapi import FastAPI
from trivium.compat.fastapi.staticfiles import StaticFiles as CompatStaticFiles
from trivium.errors import HTTPException
from trivium.middleware import BaseHTTPMiddleware
from trivium.middleware import Middleware
from trivium.responses import PlainTextResponse
from trivium.responses import Response
from trivium.staticfiles import StaticFiles
from trivium.templating import Templates
from trivium.testing import TestClient

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    root.mkdir()
    (root / "app.css").write_text("body {}")
    return root


async def custom(request: Request, exc: HTTPException) -> Response:
    return PlainTextResponse(f"custom {exc.status_code}", exc.status_code, exc.headers)


async def passthrough(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    return await call_next(request)


@pytest.mark.parametrize("kind", ["app", "middleware", "compat", "nested"])
def test_the_apps_handlers_answer_static_errors(site: Path, kind: str) -> None:
    if kind == "compat":
        app: App = FastAPI()
        app.mount("/static", CompatStaticFiles(directory=site), name="static")
    elif kind == "nested":
        app = App(openapi_url=None)
        inner = App(openapi_url=None)
        inner.mount("/static", StaticFiles(directory=site), name="static")
        inner.add_exception_handler(404, custom)
        inner.add_exception_handler(405, custom)
        app.mount("/inner", inner)
    else:
        middleware = [Middleware(BaseHTTPMiddleware, dispatch=passthrough)]
        app = App(openapi_url=None, middleware=middleware if kind == "middleware" else None)
        app.mount("/static", StaticFiles(directory=site), name="static")
    app.add_exception_handler(404, custom)
    app.add_exception_handler(405, custom)
    client = TestClient(app)
    prefix = "/inner/static" if kind == "nested" else "/static"
    assert client.get(f"{prefix}/app.css").text == "body {}"
    missing = client.get(f"{prefix}/nope.css")
    assert (missing.status_code, missing.text) == (404, "custom 404")
    posted = client.post(f"{prefix}/app.css")
    assert (posted.status_code, posted.text) == (405, "custom 405")
    assert posted.headers["allow"] == "GET, HEAD"


def test_a_browser_gets_the_html_error_page_for_a_missing_file(site: Path) -> None:
    app = App(openapi_url=None)
    Templates(None).init_app(app, error_pages=True)
    app.mount("/static", StaticFiles(directory=site), name="static")
    client = TestClient(app)
    response = client.get("/static/nope.css", headers=BROWSER)
    assert response.status_code == 404
    assert "<title>404 Not Found</title>" in response.text
    api = client.get("/static/nope.css")
    assert (api.status_code, api.json()) == (404, {"detail": "Not Found"})


def test_without_handlers_the_answers_stay_json(site: Path) -> None:
    app = App(openapi_url=None)
    app.mount("/static", StaticFiles(directory=site), name="static")
    client = TestClient(app)
    assert client.get("/static/nope.css").json() == {"detail": "Not Found"}
    response = client.post("/static/app.css")
    assert (response.status_code, response.json()) == (405, {"detail": "Method Not Allowed"})
    assert response.headers["allow"] == "GET, HEAD"
    nul = client.get("/static/a%00.css")
    assert (nul.status_code, nul.json()) == (400, {"detail": "Invalid path"})


def test_on_its_own_static_files_answer_their_errors(site: Path) -> None:
    client = TestClient(StaticFiles(directory=site))
    assert client.get("/app.css").text == "body {}"
    missing = client.get("/nope.css")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    posted = client.post("/app.css")
    assert (posted.status_code, posted.json()) == (405, {"detail": "Method Not Allowed"})
    assert posted.headers["allow"] == "GET, HEAD"
