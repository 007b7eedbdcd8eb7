"""HTML error pages for browsers, JSON for API clients."""

from __future__ import annotations

import logging

import pytest
from tests.templating.helpers import WriteTemplates

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium.errors import ConfigurationError
from trivium.responses import PlainTextResponse
from trivium.templating import Templates
from trivium.templating import install_error_pages
from trivium.testing import TestClient

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def make_app(templates: Templates | None = None, **options: object) -> App:
    app = App(openapi_url=None, **options)  # type: ignore[arg-type]
    (templates or Templates(None)).init_app(app, error_pages=True)

    @app.get("/secret")
    async def secret() -> None:
        raise HTTPException(403, "Members only", headers={"www-authenticate": "Bearer"})

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("database password is hunter2")

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418)

    @app.post("/only-post")
    async def only_post() -> None: ...

    return app


def test_browsers_get_an_html_404() -> None:
    response = TestClient(make_app()).get("/missing", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>404 Not Found</title>" in response.text
    assert "There is no page at this address." in response.text


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "*/*",
        "application/json",
        "application/json, text/html;q=0.9",
        "text/plain",
        "text/html;q=abc",
        "text/html;q=0",
    ],
)
def test_other_clients_get_json(accept: str | None) -> None:
    headers = {"accept": accept} if accept is not None else {}
    response = TestClient(make_app()).get("/missing", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("accept", ["text/html", "text/*", "text/html, application/json;q=0.5"])
def test_html_ranked_above_json_gets_html(accept: str) -> None:
    response = TestClient(make_app()).get("/missing", headers={"accept": accept})
    assert response.headers["content-type"].startswith("text/html")


def test_403_page_keeps_the_detail_and_headers() -> None:
    client = TestClient(make_app())
    page = client.get("/secret", headers=BROWSER)
    assert page.status_code == 403
    assert "<p>Members only</p>" in page.text
    assert page.headers["www-authenticate"] == "Bearer"
    api = client.get("/secret")
    assert (api.status_code, api.json()) == (403, {"detail": "Members only"})
    assert api.headers["www-authenticate"] == "Bearer"


def test_405_falls_back_to_the_base_page_with_allow() -> None:
    response = TestClient(make_app()).get("/only-post", headers=BROWSER)
    assert response.status_code == 405
    assert "<title>405 Method Not Allowed</title>" in response.text
    assert response.headers["allow"] == "POST, OPTIONS"


def test_500_page_hides_the_error_and_reraises_it() -> None:
    with pytest.raises(RuntimeError, match="hunter2"):  # for the server's log, as Starlette
        TestClient(make_app()).get("/crash", headers=BROWSER)
    client = TestClient(make_app(), raise_server_exceptions=False)
    page = client.get("/crash", headers=BROWSER)
    assert page.status_code == 500
    assert "Something went wrong on our side." in page.text
    assert "hunter2" not in page.text
    assert "RuntimeError" not in page.text
    api = client.get("/crash")
    assert (api.status_code, api.json()) == (500, {"detail": "Internal Server Error"})


def test_debug_mode_keeps_the_traceback_page() -> None:
    client = TestClient(make_app(debug=True), raise_server_exceptions=False)
    response = client.get("/crash", headers=BROWSER)
    assert response.status_code == 500
    assert "hunter2" in response.text  # the core's debug page, for the developer
    assert "debug=True" in response.text


def test_statuses_not_listed_stay_json() -> None:
    response = TestClient(make_app()).get("/teapot", headers=BROWSER)
    assert (response.status_code, response.json()) == (418, {"detail": "I'm a Teapot"})


def test_validation_errors_stay_json_for_browsers() -> None:
    app = make_app()

    @app.get("/n/{number}")
    async def number(number: int) -> int:
        return number

    response = TestClient(app).get("/n/abc", headers=BROWSER)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "number"]


def test_the_app_overrides_an_error_page(write_templates: WriteTemplates) -> None:
    directory = write_templates(
        {"errors/404.html": "<h1>Lost? {{ request.url.path }} ({{ status_code }})</h1>"}
    )
    response = TestClient(make_app(Templates(directory))).get("/where", headers=BROWSER)
    assert (response.status_code, response.text) == (404, "<h1>Lost? /where (404)</h1>")


def test_the_app_overrides_the_base_page(write_templates: WriteTemplates) -> None:
    directory = write_templates({"errors/base.html": "oops {{ status_code }} {{ title }}"})
    response = TestClient(make_app(Templates(directory))).get("/only-post", headers=BROWSER)
    assert response.text == "oops 405 Method Not Allowed"


def test_a_broken_error_page_falls_back_to_json(
    write_templates: WriteTemplates, caplog: pytest.LogCaptureFixture
) -> None:
    directory = write_templates({"errors/404.html": "{{ 1 // 0 }}"})
    with caplog.at_level(logging.ERROR, logger="trivium.error"):
        response = TestClient(make_app(Templates(directory))).get("/x", headers=BROWSER)
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
    assert "failed to render" in caplog.text


def test_existing_handlers_are_kept() -> None:
    app = App(openapi_url=None)

    @app.exception_handler(404)
    async def mine(request: Request, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("mine", 404)

    install_error_pages(app, Templates(None))
    assert TestClient(app).get("/x", headers=BROWSER).text == "mine"


def test_error_pages_have_the_csp_nonce(write_templates: WriteTemplates) -> None:
    from trivium.middleware import Middleware
    from trivium.middleware import SecurityHeadersMiddleware

    csp = Middleware(SecurityHeadersMiddleware, csp={"style-src": "self"})
    response = TestClient(make_app(middleware=[csp])).get("/x", headers=BROWSER)
    policy = response.headers["content-security-policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">' in response.text


@pytest.mark.parametrize("status", [200, 302, 600, True, "404"])
def test_a_non_error_status_is_refused(status: object) -> None:
    with pytest.raises(ConfigurationError, match="error-page-status"):
        Templates(None).install_error_pages(App(), [status])  # type: ignore[list-item]


def test_a_status_without_a_phrase_gets_a_plain_title() -> None:
    app = App(openapi_url=None)
    Templates(None).install_error_pages(app, [499])

    @app.get("/closed")
    async def closed() -> None:
        raise HTTPException(499, "Client went away")

    response = TestClient(app).get("/closed", headers=BROWSER)
    assert response.status_code == 499
    assert "<title>499 Error</title>" in response.text
    assert "<p>Client went away</p>" in response.text
