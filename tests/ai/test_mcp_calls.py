"""MCP tool arguments checked against the input schema, failing prompts, tool names."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from tests.ai.mcpkit import mcp_client

from trivium import App
from trivium.ai import MCP
from trivium.ai import Prompt
from trivium.errors import ConfigurationError


def text_of(result: Any) -> str:
    return str(result.content[0].text)


def echo_app() -> App:
    app = App()
    app.install(MCP())

    @app.get("/echo", mcp=True)
    async def echo(q: str | None = None, n: int = 1) -> dict[str, Any]:
        """Echo the query."""
        return {"q": q, "n": n}

    @app.get("/items/{name}", mcp=True)
    async def item(name: str) -> dict[str, str]:
        """One item."""
        return {"name": name}

    @app.post("/tags", mcp=True)
    async def tags(tags: list[str]) -> dict[str, list[str]]:
        """Tag things (a JSON body)."""
        return {"tags": tags}

    return app


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"q": ["a", "b"]}, "argument 'q' takes a string or null, not an array"),
        ({"q": {"k": 1}}, "argument 'q' takes a string or null, not an object"),
        ({"q": True}, "argument 'q' takes a string or null, not a boolean"),
        ({"q": 3}, "argument 'q' takes a string or null, not a number"),
        ({"n": [1]}, "argument 'n' takes an integer, not an array"),
        ({"n": False}, "argument 'n' takes an integer, not a boolean"),
    ],
    ids=["list", "object", "bool", "number", "list-for-int", "bool-for-int"],
)
def test_a_query_argument_of_the_wrong_json_type_is_an_error_result(
    arguments: dict[str, Any], expected: str
) -> None:
    async def go() -> None:
        async with mcp_client(echo_app()) as client:
            result = await client.call_tool("echo", arguments)
            assert result.is_error
            assert text_of(result) == f"tool 'echo': {expected}"

    anyio.run(go)


def test_a_path_argument_of_the_wrong_json_type_is_an_error_result() -> None:
    async def go() -> None:
        async with mcp_client(echo_app()) as client:
            result = await client.call_tool("item", {"name": ["a", "b"]})
            assert result.is_error
            assert text_of(result) == "tool 'item': argument 'name' takes a string, not an array"

    anyio.run(go)


def test_arguments_of_the_right_json_type_still_reach_the_route() -> None:
    async def go() -> None:
        async with mcp_client(echo_app()) as client:
            result = await client.call_tool("echo", {"q": "x", "n": 2})
            assert result.structured_content == {"q": "x", "n": 2}
            # a string for a number is converted by the route, as from a query string
            converted = await client.call_tool("echo", {"n": "3"})
            assert converted.structured_content == {"q": None, "n": 3}
            refused = await client.call_tool("echo", {"n": "three"})
            assert refused.is_error
            assert "422" in text_of(refused)
            listed = await client.call_tool("tags", {"tags": ["a", "b"]})
            assert listed.structured_content == {"tags": ["a", "b"]}
            body = await client.call_tool("tags", {"tags": "a"})
            assert body.is_error
            assert "422" in text_of(body)

    anyio.run(go)


def test_a_whole_number_written_as_a_float_is_an_integer() -> None:
    # JSON Schema counts 3.0 as an integer, and clients (models) often send one.
    async def go() -> None:
        async with mcp_client(echo_app()) as client:
            result = await client.call_tool("echo", {"n": 3.0})
            assert result.structured_content == {"q": None, "n": 3}
            refused = await client.call_tool("echo", {"n": 3.5})
            assert refused.is_error
            assert text_of(refused) == "tool 'echo': argument 'n' takes an integer, not a number"

    anyio.run(go)


@pytest.mark.parametrize("error", [RuntimeError, ValueError])
def test_a_failing_prompt_is_an_internal_error_without_internals(
    error: type[Exception], caplog: pytest.LogCaptureFixture
) -> None:
    def summary(topic: str) -> str:
        raise error("db password=hunter2")

    app = App()
    app.install(MCP(prompts=[Prompt("summary", summary)]))

    async def go() -> None:
        async with mcp_client(app) as client:
            with pytest.raises(MCPError) as info:
                await client.get_prompt("summary", {"topic": "x"})
            assert info.value.error.code == -32603
            assert info.value.error.message == "prompt 'summary' failed"
            with pytest.raises(MCPError) as missing:
                await client.get_prompt("summary", {})
            assert missing.value.error.code == -32602
            assert "needs argument(s) topic" in missing.value.error.message

    with caplog.at_level(logging.ERROR, logger="trivium.ai.mcp"):
        anyio.run(go)
    failures = [r for r in caplog.records if r.name == "trivium.ai.mcp"]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert "hunter2" in str(failures[0].exc_info[1])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("has space", r"tool name 'has space' .* has a character other than"),
        ("x" * 65, r"tool name 'x{65}' .* is 65 characters long, over 64; set a shorter"),
    ],
    ids=["character", "length"],
)
def test_a_bad_tool_name_says_which_rule_it_breaks(name: str, expected: str) -> None:
    app = App()
    app.install(MCP())

    @app.get("/a", mcp={"name": name})
    async def a() -> int:
        return 1

    with pytest.raises(ConfigurationError, match=expected) as info:
        app.plugin(MCP).catalogue(app)
    assert info.value.code == "tool-name"
