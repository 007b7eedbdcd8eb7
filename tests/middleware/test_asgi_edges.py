"""The standard middleware at the raw ASGI level: other scope types and unusual scopes."""

from __future__ import annotations

from typing import Any

import pytest

import trivium.middleware
from trivium.middleware import CORSMiddleware
from trivium.middleware import GZipMiddleware
from trivium.middleware import HTTPSRedirectMiddleware
from trivium.middleware import ProxyHeadersMiddleware
from trivium.middleware import RequestIDMiddleware
from trivium.middleware import SecurityHeadersMiddleware
from trivium.middleware import TrustedHostMiddleware
from trivium.middleware._hosts import request_target
from trivium.types import Message
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

pytestmark = pytest.mark.drives_no_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder:
    """An inner app that records the scope it saw and answers a fixed response."""

    def __init__(self, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.scope: Scope | None = None
        self.headers = headers or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": self.headers})
            await send({"type": "http.response.body", "body": b"ok"})


async def call(app: Any, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def http_scope(**extra: Any) -> Scope:
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/p",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"app.test")],
        "client": ("127.0.0.1", 1),
        "server": ("app.test", 80),
    }
    scope.update(extra)
    return scope


MIDDLEWARE = [
    lambda app: CORSMiddleware(app, allow_origins=["https://a.test"]),
    lambda app: GZipMiddleware(app),
    lambda app: TrustedHostMiddleware(app, allowed_hosts=["example.com"]),
    lambda app: SecurityHeadersMiddleware(app, csp={"script-src": "self"}),
    lambda app: HTTPSRedirectMiddleware(app),
    lambda app: ProxyHeadersMiddleware(app),
    lambda app: RequestIDMiddleware(app),
]


@pytest.mark.anyio
@pytest.mark.parametrize("build", MIDDLEWARE)
async def test_lifespan_scope_passes_through_untouched(build: Any) -> None:
    inner = Recorder()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    assert await call(build(inner), scope) == []
    assert inner.scope == {"type": "lifespan", "asgi": {"version": "3.0"}}


@pytest.mark.anyio
async def test_state_is_created_when_the_server_gives_none() -> None:
    inner = Recorder()
    app = RequestIDMiddleware(SecurityHeadersMiddleware(inner, csp={"script-src": "self"}))
    await call(app, http_scope())
    assert inner.scope is not None
    assert set(inner.scope["state"]) == {"request_id", "csp_nonce"}


@pytest.mark.anyio
async def test_https_redirect_closes_websocket_without_denial_extension() -> None:
    scope = http_scope(type="websocket", scheme="ws")
    sent = await call(HTTPSRedirectMiddleware(Recorder()), scope)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "Use wss://"}]


@pytest.mark.anyio
async def test_https_redirect_without_host_uses_the_server_address() -> None:
    sent = await call(
        HTTPSRedirectMiddleware(Recorder()), http_scope(headers=[], server=("::1", 8000))
    )
    assert sent[0]["status"] == 308
    assert (b"location", b"https://[::1]:8000/p") in sent[0]["headers"]


@pytest.mark.anyio
async def test_https_redirect_without_any_host_is_refused() -> None:
    sent = await call(HTTPSRedirectMiddleware(Recorder()), http_scope(headers=[], server=None))
    assert sent[0]["status"] == 400
    ws = http_scope(type="websocket", scheme="ws", headers=[(b"host", b"bad host")])
    sent = await call(HTTPSRedirectMiddleware(Recorder()), ws)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "Invalid host"}]


def test_request_target_adds_a_root_path_missing_from_path() -> None:
    assert request_target(http_scope(root_path="/api", path="/p", query_string=b"a=1")) == (
        "/api/p?a=1"
    )
    assert request_target(http_scope(root_path="/api", path="/api/p")) == "/api/p"


@pytest.mark.anyio
async def test_gzip_passes_an_extension_message_sent_before_the_body() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.trailers", "headers": [], "more_trailers": False})

    sent = await call(GZipMiddleware(app), http_scope(headers=[(b"accept-encoding", b"gzip")]))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.trailers"]


def test_proxy_is_trusted_accepts_strings() -> None:
    proxy = ProxyHeadersMiddleware(Recorder(), trusted_proxies=["10.0.0.0/8"])
    assert proxy.is_trusted("10.1.2.3")
    assert not proxy.is_trusted("11.1.2.3")
    assert not proxy.is_trusted("garbage")
    assert not proxy.is_trusted(None)


def test_cors_is_allowed_origin_is_case_insensitive_for_listed_origins() -> None:
    cors = CORSMiddleware(Recorder(), allow_origins=["https://A.test"])
    assert cors.is_allowed_origin("https://a.TEST")
    assert not cors.is_allowed_origin("https://b.test")


def test_unknown_middleware_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        trivium.middleware.Nope  # noqa: B018 - the access is the test
    assert "CORSMiddleware" in dir(trivium.middleware)
