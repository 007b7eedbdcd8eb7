"""The MCP example, driven by the official MCP SDK client and by `trivium mcp list`."""

from __future__ import annotations

import anyio
from click.testing import CliRunner
from tests.ai.mcpkit import mcp_client

from examples.mcp.app import app
from trivium.cli import main


# --8<-- [start:client]
def test_an_mcp_client_lists_and_calls_the_curated_tools() -> None:
    async def go() -> None:
        async with mcp_client(app) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert tools == {"get_book", "add_book", "categories", "export", "shelf_size"}
            book = await client.call_tool("get_book", {"book_id": 1})
            assert book.structured_content == {"id": 1, "title": "Dune", "author": "Frank Herbert"}
            tree = await client.call_tool("categories", {})
            assert tree.structured_content is not None
            assert tree.structured_content["children"][0]["name"] == "science fiction"
            missing = await client.call_tool("get_book", {"book_id": 9})
            assert missing.is_error
            books = await client.read_resource("library://books")
            assert "Dune" in books.contents[0].text  # type: ignore[union-attr]
            prompt = await client.get_prompt("recommend", {"title": "Dune"})
            assert prompt.messages[0].content.text == "Recommend three books like Dune."  # type: ignore[union-attr]

    anyio.run(go)


# --8<-- [end:client]


def test_mcp_list_prints_the_tools_and_their_token_cost() -> None:
    result = CliRunner().invoke(main, ["mcp", "list"], env={"TRIVIUM_APP": "examples.mcp.app:app"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("get_book ") and "GET /books/{book_id}" in line for line in lines)
    assert "5 tool(s), about" in lines[-3]
    assert "resource library://books" in result.output
    assert "prompt recommend(title)" in result.output
    assert "stats" not in result.output
