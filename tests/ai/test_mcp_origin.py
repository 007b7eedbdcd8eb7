"""The MCP endpoint's Host and Origin checks (DNS rebinding), and where it is routed."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from tests.ai.mcpkit import mcp_client
from tests.ai.mcpkit import running

from trivium import App
from trivium import Router
from trivium import UploadFile
from trivium.ai import MCP
from trivium.ai import mcp
from trivium.errors import ConfigurationError
from trivium.middleware import TrustedHostMiddleware

CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "ring", "arguments": {}},
}


def bell_app(**options: Any) -> tuple[App, list[str]]:
    app = App()
    app.install(MCP(json_response=True, **options))
    rung: list[str] = []

    @app.post("/bell", mcp=True)
    async def ring() -> dict[str, bool]:
        """Ring the bell."""
        rung.append("ring")
        return {"rang": True}

    return app, rung


async def post(http: Any, headers: dict[str, str]) -> Any:
    sent = {
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
        **headers,
    }
    return await http.post("/mcp", json=CALL, headers=sent)


def test_a_foreign_host_is_refused_before_any_tool_runs() -> None:
    app, rung = bell_app()

    async def go() -> None:
        async with running(app) as http:
            response = await post(http, {"host": "evil.example", "origin": "http://evil.example"})
            assert response.status_code == 403
            assert "MCP(allowed_hosts=" in response.json()["detail"]
            assert "TrustedHostMiddleware" in response.json()["detail"]
            without_origin = await post(http, {"host": "evil.example"})
            assert without_origin.status_code == 403

    anyio.run(go)
    assert rung == []


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "[::1]:3000", "LOCALHOST:1"])
def test_loopback_hosts_are_served_without_configuration(host: str) -> None:
    app, rung = bell_app()

    async def go() -> None:
        async with running(app) as http:
            response = await post(http, {"host": host})
            assert response.status_code == 200, response.text
            assert response.json()["result"]["structuredContent"] == {"rang": True}
            assert response.headers["x-content-type-options"] == "nosniff"  # app defaults

    anyio.run(go)
    assert rung == ["ring"]


def test_an_origin_other_than_the_servers_own_is_refused() -> None:
    app, rung = bell_app()

    async def go() -> None:
        async with running(app) as http:
            response = await post(http, {"host": "localhost:8000", "origin": "http://evil.example"})
            assert response.status_code == 403
            assert "MCP(allowed_origins=" in response.json()["detail"]
            for origin in ("null", "https://localhost:8000", "http://localhost:9000"):
                refused = await post(http, {"host": "localhost:8000", "origin": origin})
                assert refused.status_code == 403, origin
            same = await post(http, {"host": "localhost:8000", "origin": "http://localhost:8000"})
            assert same.status_code == 200

    anyio.run(go)
    assert rung == ["ring"]


def test_listed_hosts_and_origins_are_served() -> None:
    app, rung = bell_app(
        allowed_hosts=["mcp.example.com", "*.tools.example"],
        allowed_origins=["https://app.example.com", "http://localhost:5173"],
    )

    async def go() -> None:
        async with running(app) as http:
            for headers in (
                {"host": "mcp.example.com"},
                {"host": "a.tools.example:8443"},
                {"host": "mcp.example.com", "origin": "https://app.example.com"},
                {"host": "localhost:8000", "origin": "http://localhost:5173"},
            ):
                response = await post(http, headers)
                assert response.status_code == 200, (headers, response.text)
            refused = await post(http, {"host": "tools.example"})
            assert refused.status_code == 403

    anyio.run(go)
    assert len(rung) == 4


def test_hosts_checked_by_trusted_host_middleware_are_served() -> None:
    app, rung = bell_app()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["api.example.com"])

    async def go() -> None:
        async with running(app) as http:
            response = await post(
                http, {"host": "api.example.com", "origin": "http://api.example.com"}
            )
            assert response.status_code == 200, response.text

    anyio.run(go)
    assert rung == ["ring"]


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"allowed_hosts": "example.com"}, "mcp-hosts"),
        ({"allowed_hosts": ["https://example.com"]}, "mcp-hosts"),
        ({"allowed_hosts": ["example.com:8000"]}, "mcp-hosts"),
        ({"allowed_origins": ["app.example.com"]}, "mcp-origins"),
        ({"allowed_origins": ["https://app.example.com/path"]}, "mcp-origins"),
        ({"allowed_origins": ["ftp://app.example.com"]}, "mcp-origins"),
    ],
)
def test_bad_hosts_and_origins_are_configuration_errors(options: Any, code: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        MCP(**options)
    assert info.value.code == code


def test_unknown_mcp_options_stay_errors() -> None:
    with pytest.raises(TypeError, match="allowed_origin"):
        MCP(allowed_origin=["https://app.example.com"])  # type: ignore[call-arg]


def test_a_catch_all_route_does_not_hide_the_endpoint() -> None:
    app, rung = bell_app()

    @app.get("/{full_path:path}")
    async def spa(full_path: str) -> dict[str, str]:
        return {"page": full_path}

    async def go() -> None:
        async with mcp_client(app) as client:
            result = await client.call_tool("ring", {})
            assert result.structured_content == {"rang": True}
        async with running(app) as http:
            assert (await http.get("/some/page")).json() == {"page": "some/page"}

    anyio.run(go)
    assert rung == ["ring"]


def test_an_upload_route_in_an_mcp_router_says_to_opt_it_out() -> None:
    app = App()
    app.install(MCP())
    router = Router(prefix="/files", mcp=True)

    @router.post("/upload")
    async def upload(file: UploadFile) -> dict[str, str]:
        return {"name": file.filename or ""}

    app.include_router(router)
    with pytest.raises(ConfigurationError, match="mcp=False on the route") as info:
        app.plugin(MCP).catalogue(app)
    assert "tool=" not in str(info.value)

    marked = App()
    marked.install(MCP())

    @marked.post("/upload")
    @mcp.tool
    async def upload_marked(file: UploadFile) -> dict[str, str]:
        return {"name": file.filename or ""}

    with pytest.raises(ConfigurationError, match="remove @mcp.tool"):
        marked.plugin(MCP).catalogue(marked)
