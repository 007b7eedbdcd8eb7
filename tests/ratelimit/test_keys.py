"""Several limits on one route, keys (ip behind trusted proxies, user, custom), websockets."""

from __future__ import annotations

from typing import Any

import pytest
from tests.ratelimit.conftest import LimitsFactory

from trivium import App
from trivium import Request
from trivium import WebSocket
from trivium.errors import ConfigurationError
from trivium.middleware import Middleware
from trivium.middleware import ProxyHeadersMiddleware
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.ratelimit import RateLimit
from trivium.ratelimit import RateLimits
from trivium.ratelimit import by_ip
from trivium.ratelimit import by_user
from trivium.testing import TestClient
from trivium.testing import WebSocketRejected


def test_several_limits_are_all_checked_and_the_tightest_sets_the_headers(
    make_limits: LimitsFactory,
) -> None:
    app = App(plugins=[make_limits()])
    shared = RateLimit("4/hour", scope="shared")

    @app.get("/burst", rate_limit=[RateLimit("2/hour"), shared])
    async def burst() -> None: ...

    @app.get("/other", rate_limit=shared)
    async def other() -> None: ...

    with TestClient(app) as client:
        first = client.get("/burst")
        assert (first.headers["ratelimit-limit"], first.headers["ratelimit-remaining"]) == (
            "2",
            "1",
        )
        assert first.headers["ratelimit-policy"] == "2;w=3600, 4;w=3600"
        assert client.get("/burst").status_code == 200
        refused = client.get("/burst")
        assert refused.status_code == 429
        assert refused.headers["ratelimit-limit"] == "2"
        # The refused request spent nothing of the shared budget: 2 of 4 are left.
        assert [client.get("/other").status_code for _ in range(3)] == [200, 200, 429]


def test_a_client_forged_forwarded_for_is_ignored_but_a_trusted_proxy_is_believed(
    make_limits: LimitsFactory,
) -> None:
    proxy = Middleware(ProxyHeadersMiddleware, trusted_proxies=["10.0.0.1"])
    app = App(plugins=[make_limits()], middleware=[proxy])

    @app.get("/x", rate_limit=RateLimit("1/hour", key=by_ip))
    async def x() -> None: ...

    with TestClient(app, client=("203.0.113.9", 1234)) as direct:
        assert direct.get("/x", headers={"x-forwarded-for": "1.1.1.1"}).status_code == 200
        # Another forged address does not buy a new budget: the key is the peer.
        assert direct.get("/x", headers={"x-forwarded-for": "2.2.2.2"}).status_code == 429
    with TestClient(app, client=("10.0.0.1", 1234)) as behind_proxy:
        assert behind_proxy.get("/x", headers={"x-forwarded-for": "1.1.1.1"}).status_code == 200
        assert behind_proxy.get("/x", headers={"x-forwarded-for": "2.2.2.2"}).status_code == 200
        assert behind_proxy.get("/x", headers={"x-forwarded-for": "1.1.1.1"}).status_code == 429


class _User:
    def __init__(self, ident: int | None) -> None:
        self.id = ident
        self.is_authenticated = ident is not None


class _HeaderLogin(RequestStep):
    """Stands in for trivium.auth: the `x-user` header names the user (order 200)."""

    order = 200

    async def before(self, connection: Any) -> None:
        ident = connection.headers.get("x-user")
        connection.scope["user"] = _User(int(ident) if ident else None)


class _HeaderAuth(Plugin):
    def request_steps(self, route: RouteNeeds) -> list[RequestStep]:
        return [_HeaderLogin()] if route.takes_connection else []


def test_by_user_gives_each_user_a_budget_and_anonymous_ones_their_address(
    make_limits: LimitsFactory,
) -> None:
    app = App(plugins=[_HeaderAuth(), make_limits()])

    @app.get("/me", rate_limit=RateLimit("1/hour", key=by_user))
    async def me(request: Request) -> None: ...

    with TestClient(app) as client:
        assert client.get("/me", headers={"x-user": "1"}).status_code == 200
        assert client.get("/me", headers={"x-user": "1"}).status_code == 429
        assert client.get("/me", headers={"x-user": "2"}).status_code == 200
        assert client.get("/me").status_code == 200
        assert client.get("/me").status_code == 429


def test_by_user_on_a_route_that_never_reads_the_user_fails_at_start() -> None:
    from trivium.ratelimit import RateLimits

    app = App(plugins=[RateLimits()])

    @app.get("/x", rate_limit=RateLimit("1/hour", key=by_user))
    async def x() -> None: ...

    with pytest.raises(ConfigurationError, match="CurrentUser") as info:
        app.build()
    assert info.value.code == "ratelimit-by-user"


def test_a_custom_async_key_and_none_for_unlimited(make_limits: LimitsFactory) -> None:
    async def by_api_key(request: Any) -> str | None:
        return request.headers.get("x-api-key")  # no key: not limited here

    app = App(plugins=[make_limits()])

    @app.get("/x", rate_limit=RateLimit("1/hour", key=by_api_key))
    async def x() -> None: ...

    with TestClient(app) as client:
        assert client.get("/x", headers={"x-api-key": "a"}).status_code == 200
        assert client.get("/x", headers={"x-api-key": "a"}).status_code == 429
        assert client.get("/x", headers={"x-api-key": "b"}).status_code == 200
        free = client.get("/x")
    assert free.status_code == 200
    assert "ratelimit-limit" not in free.headers


def test_cost_spends_several_requests_at_once(make_limits: LimitsFactory) -> None:
    app = App(plugins=[make_limits()])
    budget = RateLimit("5/hour", scope="export")

    @app.get("/export", rate_limit=RateLimit("5/hour", scope="export", cost=3))
    async def export() -> None: ...

    @app.get("/page", rate_limit=budget)
    async def page() -> None: ...

    with TestClient(app) as client:
        assert client.get("/export").headers["ratelimit-remaining"] == "2"
        assert client.get("/export").status_code == 429
        assert [client.get("/page").status_code for _ in range(3)] == [200, 200, 429]


def test_websocket_messages_are_limited_and_the_connection_closed_with_1008(
    make_limits: LimitsFactory,
) -> None:
    app = App(plugins=[make_limits()])

    @app.websocket("/echo", rate_limit=RateLimit("2/hour", per_message=True))
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            await websocket.send_text(await websocket.receive_text())

    with TestClient(app) as client, client.websocket_connect("/echo") as ws:
        ws.send_text("one")
        assert ws.receive_text() == "one"
        ws.send_text("two")
        assert ws.receive_text() == "two"
        ws.send_text("three")
        closed = ws.receive()
    assert closed["type"] == "websocket.close"
    assert closed["code"] == 1008


def test_websocket_connections_are_limited(make_limits: LimitsFactory) -> None:
    app = App(plugins=[make_limits()])

    @app.websocket("/ws", rate_limit=RateLimit("1/hour"))
    async def ws_route(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    with TestClient(app) as client:
        with client.websocket_connect("/ws"):
            pass
        with pytest.raises(WebSocketRejected), client.websocket_connect("/ws"):
            pass


def test_each_client_address_has_its_own_budget_on_every_interface() -> None:
    # On RSGI's direct path the scope is built lazily; the client address must still be
    # read (a lookup that missed it once keyed every client as one).
    app = App(plugins=[RateLimits()])

    @app.get("/limited", rate_limit=RateLimit("1/hour"))
    async def limited() -> str:
        return "ok"

    with (
        TestClient(app, client=("10.0.0.1", 1000)) as first,
        TestClient(app, client=("10.0.0.2", 1000)) as second,
    ):
        assert first.get("/limited").status_code == 200
        assert second.get("/limited").status_code == 200
        assert first.get("/limited").status_code == 429


@pytest.mark.asgi_only("RSGI hands the address over as one string, parsed by trivium")
def test_a_peer_whose_port_the_server_gave_oddly_is_keyed_by_its_host() -> None:
    app = App(plugins=[RateLimits()])

    @app.get("/limited", rate_limit=RateLimit("1/hour"))
    async def limited() -> str:
        return "ok"

    odd: Any = ("10.0.0.7", "not-a-port")  # an ASGI server that broke the spec
    with (
        TestClient(app, client=odd) as first,
        TestClient(app, client=("10.0.0.8", 1000)) as second,
    ):
        assert first.get("/limited").status_code == 200
        assert second.get("/limited").status_code == 200
        refused = first.get("/limited")
        assert refused.status_code == 429
        assert refused.headers["ratelimit-remaining"] == "0"
