"""The MCP endpoint over HTTP: GET has nothing to stream, steps' headers reach the answer."""

from __future__ import annotations

import anyio
from tests.ai.mcpkit import mcp_client
from tests.ai.mcpkit import running

from trivium import App
from trivium.ai import MCP
from trivium.plugins import Plugin
from trivium.ratelimit import RateLimits

HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def ping_app(*plugins: Plugin) -> App:
    app = App(plugins=list(plugins))
    app.install(MCP())

    @app.get("/ping", mcp=True)
    async def ping() -> dict[str, bool]:
        """Ping."""
        return {"ok": True}

    return app


def test_get_on_the_endpoint_is_405_not_an_endless_stream() -> None:
    async def go() -> None:
        async with running(ping_app()) as http:
            with anyio.fail_after(5):
                response = await http.get("/mcp", headers={"accept": "text/event-stream"})
            assert response.status_code == 405
            assert response.headers["allow"] == "POST"
            deleted = await http.delete("/mcp", headers=HEADERS)
            assert deleted.status_code == 405
            assert deleted.headers["allow"] == "POST"
            posted = await http.post("/mcp", json=LIST, headers=HEADERS)
            assert posted.status_code == 200

    anyio.run(go)


def test_the_sdk_client_works_with_get_refused() -> None:
    async def go() -> None:
        for mode in ("auto", "legacy"):
            async with mcp_client(ping_app(), mode=mode) as client:
                result = await client.call_tool("ping", {})
                assert result.structured_content == {"ok": True}

    anyio.run(go)


def test_a_successful_mcp_answer_carries_the_rate_limit_headers() -> None:
    async def go() -> None:
        async with running(ping_app(RateLimits(None, default="5/minute"))) as http:
            first = await http.post("/mcp", json=LIST, headers=HEADERS)
            second = await http.post("/mcp", json=LIST, headers=HEADERS)
        assert first.status_code == 200
        assert first.headers["ratelimit-limit"] == "5"
        assert first.headers["ratelimit-remaining"] == "4"
        assert second.headers["ratelimit-remaining"] == "3"
        assert len(first.headers.get_list("content-type")) == 1  # the SDK's own, not ours

    anyio.run(go)
