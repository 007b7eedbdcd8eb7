"""A real server: `trivium run --workers 2` (Granian, RSGI) answers MCP from any worker."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from tests import live


@pytest.mark.live
def test_two_workers_answer_mcp_calls_without_sessions(tmp_path: Path) -> None:
    with live.trivium_run(
        "examples.mcp.app:app",
        "--workers",
        "2",
        ready_path="/stats",
        ready=lambda response: response.status_code == 200,
        log_dir=tmp_path,
    ) as server:
        base = server.url

        async def session(mode: str) -> list[str]:
            # `connection: close`: each request may land on either worker.
            headers = {"connection": "close"}
            async with httpx2.AsyncClient(headers=headers, timeout=10) as http:
                transport = streamable_http_client(f"{base}/mcp", http_client=http)
                async with Client(transport, mode=mode, cache=None) as client:  # type: ignore[arg-type]
                    seen = []
                    for _ in range(3):
                        tools = (await client.list_tools()).tools
                        seen.append(",".join(sorted(t.name for t in tools)))
                        book = await client.call_tool("get_book", {"book_id": 1})
                        assert book.structured_content is not None
                        seen.append(book.structured_content["title"])
                    return seen

        for mode in ("auto", "legacy"):
            seen = anyio.run(session, mode)
            assert seen[1::2] == ["Dune"] * 3
            assert set(seen[0::2]) == {"add_book,categories,export,get_book,shelf_size"}
