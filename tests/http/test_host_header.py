"""The `Host` header: parsed as a URL authority, refused with 400 when forged or repeated.

Every app checks it at its edge, with or without `TrustedHostMiddleware`, so that
`request.url`, `base_url` and `url_for` are never built from a value such as
`example.com:@evil.example` (which a URL parser reads as host `evil.example`).
"""

from __future__ import annotations

import pytest
from tests.refusals import refused_with

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium import WebSocket
from trivium.http import Authority
from trivium.http import parse_authority
from trivium.middleware import Middleware
from trivium.middleware import TrustedHostMiddleware
from trivium.testing import TestClient
from trivium.testing import WebSocketRejected

FORGED = [
    "example.com:@evil.example",
    "evil.example#.example.com",
    "evil.example/.example.com",
    "evil.example?.example.com",
    "evil.example\\.example.com",
    "user@api.example.com",
    "api.example.com:80@evil.example",
    "api.example.com:8000:9000",
    "api.example.com:",
    "api.example.com:0",
    "api.example.com:65536",
    "api.example.com:+80",
    "api.example.com:8o",
    "api.example.com%2f",
    "api..example.com",
    "api example.com",
    "[::1",
    "[::1]x",
    "[fe80::1%25eth0]",
    "[v1.fe]",
    "[not-an-ip]",
]


def make_app(**options: object) -> App:
    app = App(openapi_url=None, **options)  # type: ignore[arg-type]

    @app.get("/base")
    async def base(request: Request) -> dict[str, str]:
        return {"base": str(request.base_url), "link": str(request.url_for("base"))}

    @app.get("/plain")
    async def plain() -> str:
        return "ok"

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    return app


def guarded_app() -> App:
    allowed = ["example.com", "*.example.com"]
    return make_app(middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed)])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com", Authority("example.com", None)),
        ("Example.COM:8000", Authority("example.com", 8000)),
        ("example.com.", Authority("example.com", None)),
        ("my_service:65535", Authority("my_service", 65535)),
        ("127.0.0.1:1", Authority("127.0.0.1", 1)),
        ("[::1]", Authority("[::1]", None)),
        ("[2001:DB8::1]:443", Authority("[2001:db8::1]", 443)),
        ("[::ffff:192.0.2.1]", Authority("[::ffff:192.0.2.1]", None)),
    ],
)
def test_valid_authorities_are_parsed(value: str, expected: Authority) -> None:
    assert parse_authority(value) == expected


@pytest.mark.parametrize("value", ["", *FORGED, "a" * 255, "ex\u0430mple.com", "host:\u0661"])
def test_anything_else_is_not_an_authority(value: str) -> None:
    assert parse_authority(value) is None


@pytest.mark.parametrize("host", FORGED)
def test_forged_host_gets_400_without_any_middleware(host: str) -> None:
    response = TestClient(make_app()).get("/base", headers={"host": host})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Invalid Host header: ")
    assert "no user info, path, query or fragment" in detail
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("host", FORGED)
def test_forged_host_gets_400_from_trusted_host_middleware(host: str) -> None:
    response = TestClient(guarded_app()).get("/base", headers={"host": host})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid Host header: ")


@pytest.mark.parametrize("make", [make_app, guarded_app])
def test_valid_host_builds_the_base_url_and_links(make: object) -> None:
    client = TestClient(make())  # type: ignore[operator]
    response = client.get("/base", headers={"host": "api.example.com:8443"})
    assert response.status_code == 200
    assert response.json() == {
        "base": "http://api.example.com:8443/",
        "link": "http://api.example.com:8443/base",
    }


@pytest.mark.parametrize("make", [make_app, guarded_app])
@pytest.mark.parametrize("path", ["/base", "/plain", "/missing"])
def test_two_host_headers_get_400(make: object, path: str) -> None:
    client = TestClient(make())  # type: ignore[operator]
    response = client.get(path, headers=[("host", "example.com"), ("host", "evil.example")])
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid Host header: the request has more than one Host header"
    }


def test_websocket_with_forged_host_is_closed_with_1008() -> None:
    client = TestClient(make_app())
    with pytest.raises(WebSocketRejected) as info:
        with client.websocket_connect("/ws", headers={"host": "evil.example#.example.com"}):
            pass
    assert refused_with(info.value, 1008)


def test_request_built_outside_the_app_refuses_a_forged_host() -> None:
    # A Request made by hand (in a pure ASGI middleware, say) never went past the edge:
    # its URL properties refuse the forged value instead of building a URL from it.
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/reset",
        "query_string": b"",
        "headers": [(b"host", b"example.com:@evil.example")],
        "scheme": "https",
    }
    request = Request(scope, receive)
    with pytest.raises(HTTPException) as info:
        _ = request.base_url
    assert info.value.status_code == 400
    scope["headers"] = []
    scope["server"] = ("10.0.0.5", 8000)
    assert str(Request(scope, receive).base_url) == "https://10.0.0.5:8000/"


async def receive() -> dict[str, object]:
    return {"type": "http.disconnect"}
