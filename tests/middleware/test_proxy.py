"""ProxyHeadersMiddleware: forwarded client, scheme and host, only from trusted proxies."""

from __future__ import annotations

from typing import Any

import pytest

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.errors import ConfigurationError
from trivium.middleware import Middleware
from trivium.middleware import ProxyHeadersMiddleware
from trivium.middleware._proxy import parse_forwarded
from trivium.testing import TestClient

PROXY = ("10.0.0.5", 4000)


def make_client(peer: tuple[str, int] | None = PROXY, **options: Any) -> TestClient:
    options.setdefault("trusted_proxies", ["127.0.0.1", "10.0.0.0/8"])
    app = App(middleware=[Middleware(ProxyHeadersMiddleware, **options)], openapi_url=None)

    @app.get("/who")
    async def who(request: Request) -> dict[str, Any]:
        client = request.client
        return {
            "client": client.host if client else None,
            "port": client.port if client else None,
            "scheme": request.url.scheme,
            "host": request.headers.get("host"),
            "url": str(request.url),
        }

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.url.scheme)
        await websocket.close()

    return TestClient(app, base_url="http://internal:8000", client=peer)


def who(client: TestClient, **headers: str) -> dict[str, Any]:
    return client.get("/who", headers={k.replace("_", "-"): v for k, v in headers.items()}).json()  # type: ignore[no-any-return]


def test_trusted_proxy_headers_rewrite_client_scheme_and_host() -> None:
    seen = who(
        make_client(forwarded_host=True),
        x_forwarded_for="203.0.113.7",
        x_forwarded_proto="https",
        x_forwarded_host="shop.example",
    )
    assert seen["client"] == "203.0.113.7"
    assert seen["port"] == 0
    assert seen["scheme"] == "https"
    assert seen["host"] == "shop.example"
    assert seen["url"] == "https://shop.example/who"


def test_untrusted_peer_headers_are_ignored() -> None:
    seen = who(
        make_client(("198.51.100.1", 5000)),
        x_forwarded_for="1.2.3.4",
        x_forwarded_proto="https",
        x_forwarded_host="evil.example",
    )
    assert seen == {
        "client": "198.51.100.1",
        "port": 5000,
        "scheme": "http",
        "host": "internal:8000",
        "url": "http://internal:8000/who",
    }


def test_right_most_untrusted_address_is_the_client() -> None:
    # The client forged "6.6.6.6"; our edge proxy appended the real peer; an inner
    # proxy (10.0.0.9) appended the edge's address.
    seen = who(make_client(), x_forwarded_for="6.6.6.6, 203.0.113.7, 10.0.0.9")
    assert seen["client"] == "203.0.113.7"


def test_all_trusted_chain_gives_left_most_address() -> None:
    seen = who(make_client(), x_forwarded_for="10.1.1.1, 10.2.2.2")
    assert seen["client"] == "10.1.1.1"


def test_repeated_forwarded_for_headers_are_joined() -> None:
    client = make_client()
    response = client.get(
        "/who", headers=[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "203.0.113.8")]
    )
    assert response.json()["client"] == "203.0.113.8"


def test_per_hop_proto_follows_the_client_hop() -> None:
    seen = who(
        make_client(), x_forwarded_for="203.0.113.7, 10.0.0.9", x_forwarded_proto="https, http"
    )
    assert seen["scheme"] == "https"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x_forwarded_for": "not-an-ip"}, {"client": "10.0.0.5"}),
        ({"x_forwarded_proto": "gopher"}, {"scheme": "http"}),
        ({"x_forwarded_host": "evil.example/path"}, {"host": "internal:8000"}),
        ({"x_forwarded_host": "a b"}, {"host": "internal:8000"}),
        ({"x_forwarded_for": "[2001:db8::1]:4711"}, {"client": "2001:db8::1", "port": 4711}),
        ({"x_forwarded_for": "2001:db8::2"}, {"client": "2001:db8::2"}),
        ({"x_forwarded_for": "203.0.113.9:81"}, {"client": "203.0.113.9", "port": 81}),
    ],
)
def test_malformed_or_unusual_values(headers: dict[str, str], expected: dict[str, Any]) -> None:
    seen = who(make_client(), **headers)
    assert {key: seen[key] for key in expected} == expected


def test_forwarded_header_mode() -> None:
    client = make_client(headers="forwarded", forwarded_host=True)
    seen = who(
        client,
        forwarded='for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https;host=shop.example',
        x_forwarded_for="1.1.1.1",
    )
    assert seen["client"] == "2001:db8:cafe::17"
    assert seen["port"] == 4711
    assert seen["scheme"] == "https"
    assert seen["host"] == "shop.example"


def test_x_forwarded_mode_ignores_forwarded_header() -> None:
    seen = who(make_client(), forwarded="for=1.1.1.1;proto=https")
    assert seen["client"] == "10.0.0.5"
    assert seen["scheme"] == "http"


@pytest.mark.asgi_only("RSGI always has a peer address")
def test_star_trusts_every_peer_and_unknown_peers() -> None:
    assert (
        who(make_client(None, trusted_proxies=["*"]), x_forwarded_for="9.9.9.9")["client"]
        == "9.9.9.9"
    )
    assert who(make_client(None), x_forwarded_for="9.9.9.9")["client"] is None


def test_websocket_scheme_becomes_wss() -> None:
    client = make_client()
    with client.websocket_connect("/ws", headers={"x-forwarded-proto": "https"}) as session:
        assert session.receive_text() == "wss"


@pytest.mark.parametrize(
    "options",
    [
        {"trusted_proxies": "127.0.0.1"},
        {"trusted_proxies": ["localhost"]},
        {"trusted_proxies": ["10.0.0.0/33"]},
        {"headers": "x-real-ip"},
    ],
)
def test_invalid_configuration_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        ProxyHeadersMiddleware(make_client().app, **options)
    assert info.value.code == "proxy-option"


def test_parse_forwarded() -> None:
    assert parse_forwarded('for=1.2.3.4;Proto=HTTPS, for="[::1]";by=x;host="a\\"b", junk') == [
        {"for": "1.2.3.4", "proto": "HTTPS"},
        {"for": "[::1]", "by": "x", "host": 'a"b'},
        {},
    ]
