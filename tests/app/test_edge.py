"""The edge: default headers on every response and errors answered once, whoever made them.

Responses made by middleware (trusted hosts, CORS, CSRF, a user's own), by mounted apps
(static files, plain ASGI apps, another trivium app) and by routes all carry the app's
default security headers; an `HTTPException` raised in a middleware is answered through
the app's handlers and never reaches the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium.app import DEFAULT_SECURITY_HEADERS
from trivium.csrf import CSRFMiddleware
from trivium.errors import ConfigurationError
from trivium.middleware import CORSMiddleware
from trivium.middleware import Middleware
from trivium.middleware import TrustedHostMiddleware
from trivium.responses import JSONResponse
from trivium.sessions import SessionMiddleware
from trivium.staticfiles import StaticFiles
from trivium.testing import TestClient
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

DEFAULTS = {name.lower(): value for name, value in DEFAULT_SECURITY_HEADERS.items()}


def assert_defaults(headers: Any) -> None:
    for name, value in DEFAULTS.items():
        assert headers.get_list(name) == [value], name


def assert_no_defaults(headers: Any) -> None:
    assert not set(DEFAULTS) & {name.lower() for name in headers}


class Refuse:
    """A user middleware that refuses `/private` with an HTTPException."""

    def __init__(self, app: Any, status: int = 403) -> None:
        self.app = app
        self.status = status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/private":
            raise HTTPException(self.status, "Members only", headers={"X-Reason": "private"})
        await self.app(scope, receive, send)


async def plain_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    frame = [(b"x-frame-options", b"SAMEORIGIN")] if scope["path"].endswith("/own") else []
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), *frame],
        }
    )
    await send({"type": "http.response.body", "body": b"mounted"})


async def broken_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["path"].endswith("/http"):
        raise HTTPException(409, "Mounted app says no")
    raise RuntimeError("mounted app failed")


def make_app(tmp_path: Path, **options: Any) -> App:
    static = tmp_path / "static"
    static.mkdir(exist_ok=True)
    (static / "app.css").write_text("body {}")
    app = App(openapi_url=None, **options)
    app.mount("/static", StaticFiles(directory=static))
    app.mount("/asgi", plain_asgi)
    app.mount("/broken", broken_asgi)

    @app.get("/")
    async def index() -> str:
        return "home"

    @app.post("/submit")
    async def submit() -> str:
        return "done"

    return app


MIDDLEWARE = [
    Middleware(TrustedHostMiddleware, allowed_hosts=["testserver"]),
    Middleware(CORSMiddleware, allow_origins=["https://app.example"], allow_methods=["POST"]),
    Middleware(SessionMiddleware, secret_key="edge-test-secret-0123456789-abcdefghijklmnop"),
    Middleware(CSRFMiddleware),
    Middleware(Refuse),
]


@pytest.fixture(params=["bare", "middleware"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> TestClient:
    middleware = MIDDLEWARE if request.param == "middleware" else []
    return TestClient(make_app(tmp_path, middleware=middleware), raise_server_exceptions=False)


@pytest.mark.parametrize("path", ["/", "/static/app.css", "/static/missing.css", "/asgi/x"])
def test_routes_static_files_and_mounted_apps_carry_the_default_headers(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert_defaults(response.headers)


def test_a_mounted_app_keeps_a_header_it_sets_itself(client: TestClient) -> None:
    response = client.get("/asgi/own")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_mounted_app_error_is_answered_with_the_default_headers(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    conflict = TestClient(app).get("/broken/http")  # an answer: never re-raised
    assert conflict.status_code == 409
    assert conflict.json() == {"detail": "Mounted app says no"}
    assert_defaults(conflict.headers)
    with pytest.raises(RuntimeError, match="mounted app failed"):
        TestClient(app).get("/broken/crash")  # unexpected: answered, then re-raised
    failure = TestClient(app, raise_server_exceptions=False).get("/broken/crash")
    assert failure.status_code == 500
    assert_defaults(failure.headers)


def test_middleware_made_responses_carry_the_default_headers(tmp_path: Path) -> None:
    client = TestClient(make_app(tmp_path, middleware=MIDDLEWARE))
    wrong_host = client.get("/", headers={"host": "other.example"})
    assert wrong_host.status_code == 400
    preflight = client.options(
        "/submit",
        headers={"origin": "https://app.example", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    cross_site = client.post("/submit", headers={"origin": "https://evil.example"})
    assert cross_site.status_code == 403
    for response in (wrong_host, preflight, cross_site):
        assert_defaults(response.headers)


def test_http_exception_in_middleware_is_answered_once_and_not_raised(tmp_path: Path) -> None:
    # raise_server_exceptions=True: an exception reaching the server would fail the test.
    client = TestClient(make_app(tmp_path, middleware=[Middleware(Refuse)]))
    response = client.get("/private")
    assert response.status_code == 403
    assert response.json() == {"detail": "Members only"}
    assert response.headers["x-reason"] == "private"
    assert_defaults(response.headers)


def test_http_exception_in_middleware_goes_through_the_app_handlers(tmp_path: Path) -> None:
    app = make_app(tmp_path, middleware=[Middleware(Refuse, status=402)])

    @app.exception_handler(402)
    async def pay(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"pay": exc.detail, "path": request.url.path}, 402)

    response = TestClient(app).get("/private")
    assert response.json() == {"pay": "Members only", "path": "/private"}
    assert_defaults(response.headers)


def test_the_server_never_sees_a_middleware_http_exception(tmp_path: Path) -> None:
    app = make_app(tmp_path, middleware=[Middleware(Refuse)])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/private",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
    }
    anyio.run(app, scope, receive, send)  # returns normally: nothing re-raised
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 403


def test_security_headers_false_adds_none_anywhere(tmp_path: Path) -> None:
    client = TestClient(
        make_app(tmp_path, middleware=MIDDLEWARE, security_headers=False),
        raise_server_exceptions=False,
    )
    responses = [
        client.get("/"),
        client.get("/static/app.css"),
        client.get("/asgi/x"),
        client.get("/private"),
        client.get("/broken/crash"),
        client.get("/", headers={"host": "other.example"}),
        client.get("/", headers={"host": "evil.example/.x"}),
        client.post("/submit", headers={"origin": "https://evil.example"}),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 403, 500, 400, 400, 403]
    for response in responses:
        assert_no_defaults(response.headers)


def test_exception_handlers_cannot_be_added_after_start(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    TestClient(app).get("/")
    with pytest.raises(ConfigurationError) as info:
        app.add_exception_handler(418, lambda request, exc: JSONResponse({}, 418))
    assert info.value.code == "exception-handler-after-start"
