"""CORSMiddleware: simple and preflight requests, origins, credentials, configuration."""

from __future__ import annotations

from typing import Any

import pytest

from trivium import App
from trivium import WebSocket
from trivium.errors import ConfigurationError
from trivium.middleware import CORSMiddleware
from trivium.middleware import Middleware
from trivium.responses import PlainTextResponse
from trivium.testing import TestClient

SITE = "https://site.example"
EVIL = "https://evil.example"


def make_app(**options: Any) -> TestClient:
    app = App(middleware=[Middleware(CORSMiddleware, **options)], openapi_url=None)

    @app.get("/items")
    async def items() -> dict[str, str]:
        return {"ok": "yes"}

    @app.put("/items")
    async def put_items() -> dict[str, str]:
        return {"put": "yes"}

    @app.get("/own")
    async def own() -> PlainTextResponse:
        return PlainTextResponse(
            "x", headers={"access-control-allow-origin": "https://own.example", "vary": "Cookie"}
        )

    return TestClient(app)


def preflight(client: TestClient, origin: str, method: str = "PUT", headers: str = "") -> Any:
    request_headers = {"origin": origin, "access-control-request-method": method}
    if headers:
        request_headers["access-control-request-headers"] = headers
    return client.options("/items", headers=request_headers)


def test_simple_request_from_allowed_origin_gets_allow_origin() -> None:
    client = make_app(allow_origins=[SITE])
    response = client.get("/items", headers={"origin": SITE})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers


def test_simple_request_from_other_origin_gets_no_allow_origin() -> None:
    client = make_app(allow_origins=[SITE])
    response = client.get("/items", headers={"origin": EVIL})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_request_without_origin_still_varies_on_origin() -> None:
    client = make_app(allow_origins=[SITE])
    response = client.get("/items")
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_wildcard_origin_answers_star_without_vary() -> None:
    client = make_app(allow_origins=["*"])
    response = client.get("/items", headers={"origin": EVIL})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "vary" not in response.headers
    assert "vary" not in client.get("/items").headers


def test_origin_regex_matches_in_full() -> None:
    client = make_app(allow_origin_regex=r"https://[a-z]+\.site\.example")
    ok = client.get("/items", headers={"origin": "https://app.site.example"})
    assert ok.headers["access-control-allow-origin"] == "https://app.site.example"
    bad = client.get("/items", headers={"origin": "https://app.site.example.evil.example"})
    assert "access-control-allow-origin" not in bad.headers


def test_credentials_and_exposed_headers_on_simple_request() -> None:
    client = make_app(
        allow_origins=[SITE], allow_credentials=True, expose_headers=["X-Total", "X-Page"]
    )
    response = client.get("/items", headers={"origin": SITE})
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-Total, X-Page"  # as written


def test_a_preflight_204_carries_no_content_length() -> None:
    client = make_app(allow_origins=[SITE], allow_methods=["DELETE"])
    response = client.options(
        "/items", headers={"origin": SITE, "access-control-request-method": "DELETE"}
    )
    assert response.status_code == 204
    assert "content-length" not in response.headers


def test_existing_cors_and_vary_headers_are_kept() -> None:
    client = make_app(allow_origins=[SITE])
    response = client.get("/own", headers={"origin": SITE})
    assert response.headers["access-control-allow-origin"] == "https://own.example"
    assert response.headers["vary"] == "Cookie, Origin"


def test_preflight_allowed_answers_204_with_cors_headers() -> None:
    client = make_app(
        allow_origins=[SITE],
        allow_methods=["GET", "PUT"],
        allow_headers=["X-Token"],
        allow_credentials=True,
        max_age=1234,
    )
    response = preflight(client, SITE, "PUT", "X-Token, Content-Type")
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-methods"] == "GET, PUT"
    assert response.headers["access-control-allow-headers"] == "x-token, content-type"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-max-age"] == "1234"
    assert response.headers["vary"] == "Origin"


def test_preflight_with_wildcards_echoes_method_and_headers() -> None:
    client = make_app(allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    response = preflight(client, EVIL, "PATCH", "X-Anything")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "PATCH"
    assert response.headers["access-control-allow-headers"] == "x-anything"


def test_preflight_from_disallowed_origin_is_refused_with_json() -> None:
    client = make_app(allow_origins=[SITE], allow_methods=["PUT"])
    response = preflight(client, EVIL)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["refused"] == {"origin": EVIL}
    assert "origin not allowed" in body["detail"]
    assert "access-control-allow-origin" not in response.headers


def test_preflight_with_disallowed_method_and_headers_lists_both() -> None:
    client = make_app(allow_origins=[SITE], allow_methods=["GET"], allow_headers=["X-Ok"])
    response = preflight(client, SITE, "DELETE", "X-Ok, X-Bad, Accept")
    assert response.status_code == 400
    assert response.json()["refused"] == {"method": "DELETE", "headers": ["x-bad"]}


def test_safelisted_headers_are_always_allowed() -> None:
    client = make_app(allow_origins=[SITE], allow_methods=["PUT"])
    response = preflight(client, SITE, "PUT", "Content-Type, Accept-Language")
    assert response.status_code == 204


def test_options_without_request_method_is_not_a_preflight() -> None:
    client = make_app(allow_origins=[SITE])
    response = client.options("/items", headers={"origin": SITE})
    assert response.status_code == 204
    assert response.headers["allow"]
    assert response.headers["access-control-allow-origin"] == SITE


def test_websocket_passes_through() -> None:
    app = App(middleware=[Middleware(CORSMiddleware, allow_origins=[SITE])], openapi_url=None)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    with TestClient(app).websocket_connect("/ws", headers={"origin": EVIL}) as session:
        assert session.receive_text() == "hi"


def test_added_with_add_middleware() -> None:
    app = App(openapi_url=None)
    app.add_middleware(CORSMiddleware, allow_origins=[SITE])

    @app.get("/")
    async def index() -> str:
        return "x"

    response = TestClient(app).get("/", headers={"origin": SITE})
    assert response.headers["access-control-allow-origin"] == SITE


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"allow_origins": ["*"], "allow_credentials": True}, "cors-wildcard-credentials"),
        ({"allow_origins": ["https://site.example/"]}, "cors-origin"),
        ({"allow_origins": ["site.example"]}, "cors-origin"),
        ({"allow_origins": "https://site.example"}, "cors-option"),
        ({"allow_origin_regex": "https://("}, "cors-origin-regex"),
        ({"allow_methods": ["GET POST"]}, "cors-option"),
        ({"allow_headers": "X-Token"}, "cors-option"),
        ({"max_age": -1}, "cors-option"),
    ],
)
def test_invalid_configuration_is_refused_at_construction(
    options: dict[str, Any], code: str
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError

    with pytest.raises(ConfigurationError) as info:
        CORSMiddleware(app, **options)
    assert info.value.code == code
