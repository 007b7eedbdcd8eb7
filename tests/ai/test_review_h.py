"""Review fixes: `@batched` errors that are not plain exceptions, MCP rate-limit charges,
invalid JSON-RPC requests on the MCP endpoint."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.ai.mcpkit import running
from tests.auth.authapp import add_user
from tests.auth.authapp import external_token

from trivium import App
from trivium.ai import MCP
from trivium.ai import BatchError
from trivium.ai import batched
from trivium.auth import Auth
from trivium.auth import CurrentUser
from trivium.auth import JWTConfig
from trivium.db import Database
from trivium.ratelimit import RateLimit
from trivium.ratelimit import RateLimits
from trivium.stores import MemoryStore

HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_a_cancellation_escaping_the_batch_function_reaches_its_callers() -> None:
    @batched(max_size=4, max_wait_ms=10)
    async def cancelled_inside(values: list[int]) -> list[int]:
        inner = asyncio.ensure_future(asyncio.sleep(10))
        inner.cancel()
        await inner
        return values

    async with asyncio.timeout(5):
        outcomes = await asyncio.gather(
            *(cancelled_inside(n) for n in range(3)), return_exceptions=True
        )
    assert all(isinstance(outcome, BatchError) for outcome in outcomes)
    assert all(isinstance(outcome.__cause__, asyncio.CancelledError) for outcome in outcomes)
    async with asyncio.timeout(5):  # the batching task survived: later calls are answered
        again = await asyncio.gather(cancelled_inside(9), return_exceptions=True)
    assert isinstance(again[0], BatchError)


@pytest.mark.anyio
async def test_a_stop_iteration_result_reaches_its_caller_and_the_others_get_theirs() -> None:
    @batched(max_size=4, max_wait_ms=10)
    async def stop_for_zero(values: list[int]) -> list[object]:
        return [StopIteration() if value == 0 else value * 2 for value in values]

    async with asyncio.timeout(5):
        outcomes = await asyncio.gather(
            *(stop_for_zero(n) for n in range(3)), return_exceptions=True
        )
    assert isinstance(outcomes[0], BatchError)
    assert isinstance(outcomes[0].__cause__, StopIteration)
    assert outcomes[1:] == [2, 4]


# -- rate limits: the identity probe is free, a tool call also runs its route -----------


def limited_app(default: str) -> App:
    app = App(plugins=[RateLimits(None, default=default)])
    app.install(MCP())

    @app.get("/ping", mcp=True)
    async def ping() -> dict[str, bool]:
        """Ping."""
        return {"ok": True}

    @app.get("/rare", mcp=True, rate_limit=RateLimit("1/minute"))
    async def rare() -> dict[str, bool]:
        """A tool with a limit of its own."""
        return {"ok": True}

    return app


def call(name: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": name}}


def test_each_mcp_request_spends_one_request_of_the_default_limit() -> None:
    async def go() -> list[int]:
        async with running(limited_app("6/minute")) as http:
            return [
                (await http.post("/mcp", json=LIST, headers=HEADERS)).status_code for _ in range(7)
            ]

    assert anyio.run(go) == [200] * 6 + [429]


def test_a_tool_call_also_spends_the_limit_of_the_tools_route() -> None:
    async def go() -> list[int]:
        async with running(limited_app("6/minute")) as http:
            return [
                (await http.post("/mcp", json=call("ping"), headers=HEADERS)).status_code
                for _ in range(4)
            ]

    # Two of the shared default budget each: the MCP request and the run of /ping.
    assert anyio.run(go) == [200, 200, 200, 429]


def test_a_tools_own_limit_applies_to_its_calls() -> None:
    async def go() -> list[str]:
        async with running(limited_app("100/minute")) as http:
            return [
                (await http.post("/mcp", json=call("rare"), headers=HEADERS)).text for _ in range(2)
            ]

    first, second = anyio.run(go)
    assert '"isError":false' in first
    assert '"isError":true' in second
    assert "Too many requests" in second


# -- invalid JSON-RPC requests: -32600, not a silent 202 ---------------------------------


def plain_app() -> App:
    app = App()
    app.install(MCP())

    @app.get("/ping", mcp=True)
    async def ping() -> dict[str, bool]:
        """Ping."""
        return {"ok": True}

    return app


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": None, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": {"a": 1}, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": [1], "method": "tools/list"},
        {"jsonrpc": "2.0", "id": True, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 1.0, "method": "tools/list"},
        {"id": 1, "method": "tools/list"},
        [LIST],
        [],
    ],
    ids=["null", "object", "list", "bool", "float", "no-jsonrpc", "batch", "empty-batch"],
)
def test_an_invalid_request_is_answered_invalid_request(message: Any) -> None:
    async def go() -> Any:
        async with running(plain_app()) as http:
            return await http.post("/mcp", json=message, headers=HEADERS)

    response = anyio.run(go)
    assert response.status_code == 400
    answer = response.json()
    assert answer["id"] is None
    assert answer["error"]["code"] == -32600
    assert answer["error"]["message"].startswith("Invalid Request: ")


def test_valid_requests_and_notifications_still_reach_the_server() -> None:
    async def go() -> list[Any]:
        async with running(plain_app()) as http:
            listed = await http.post("/mcp", json={**LIST, "id": "a string id"}, headers=HEADERS)
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            noted = await http.post("/mcp", json=note, headers=HEADERS)
            raw = {**HEADERS, "content-type": "application/json"}
            broken = await http.post("/mcp", content=b"{not json", headers=raw)
            return [listed, noted, broken]

    listed, noted, broken = anyio.run(go)
    assert listed.status_code == 200
    assert '"id":"a string id"' in listed.text
    assert noted.status_code == 202
    assert broken.json()["error"]["code"] == -32700  # the SDK's Parse error


# -- an external authorization server's access token on the MCP endpoint ----------------

KEY = "k" * 48
ISSUER = "https://login.example.com"
AUDIENCE = "http://localhost/mcp"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'mcp.db'}")

    async def create() -> None:
        await database.create_all()
        await database.dispose()

    anyio.run(create)
    return database


def test_an_external_authorization_servers_token_is_accepted_by_mcp(db: Database) -> None:
    user_id = add_user(db, username="ada")
    config = JWTConfig(keys={"k1": KEY}, issuer=ISSUER, audience=AUDIENCE)
    app = App()
    db.init_app(app)
    Auth(db, secret_key="s" * 40, session_store=MemoryStore(), jwt=config).init_app(app)
    app.install(MCP(authorization_servers=[ISSUER]))

    @app.get("/me", mcp=True)
    async def me(user: CurrentUser) -> dict[str, int]:
        """Who the caller is."""
        return {"id": user.id}

    async def go(token: str) -> int:
        async with running(app) as http:
            headers = {**HEADERS, "authorization": f"Bearer {token}"}
            return (await http.post("/mcp", json=LIST, headers=headers)).status_code

    assert (
        anyio.run(
            go,
            external_token(
                user_id, key=KEY, issuer=ISSUER, audience=AUDIENCE, header={"typ": "at+jwt"}
            ),
        )
        == 200
    )
    assert (
        anyio.run(
            go,
            external_token(
                user_id,
                key=KEY,
                issuer=ISSUER,
                audience=AUDIENCE,
                header={"typ": "at+jwt"},
                type="refresh",
            ),
        )
        == 401
    )
