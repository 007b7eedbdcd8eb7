"""How MCP tool arguments become the route's request: path encoding, nulls, booleans."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from tests.ai.mcpkit import mcp_client
from tests.ai.mcpkit import running

from trivium import App
from trivium import Body
from trivium import HTTPException
from trivium import Router
from trivium.ai import MCP
from trivium.ai import mcp
from trivium.responses import RedirectResponse

TRICKY = ["100% sure", "a?b=c&d", "x#y", "café ☕", "a+b c", "..", "%2F", "~.-_"]


def text_of(result: Any) -> str:
    return str(result.content[0].text)


def path_app(reached: list[str]) -> App:
    app = App()
    app.install(MCP())

    @app.get("/public/{name}", mcp=True)
    async def public(name: str) -> dict[str, str]:
        """Read a public page."""
        return {"name": name}

    @app.get("/public/{name}/secret")
    async def secret(name: str) -> dict[str, str]:
        reached.append(name)
        return {"secret": name}

    @app.get("/files/{rest:path}", mcp=True)
    async def files(rest: str) -> dict[str, str]:
        """Read a file."""
        return {"rest": rest}

    @app.post("/items/{name}", mcp=True)
    async def rename(name: str) -> dict[str, str]:
        """Touch an item."""
        return {"touched": name}

    @app.post("/items/purge")
    async def purge() -> dict[str, bool]:
        reached.append("purge")
        return {"purged": True}

    return app


def test_path_values_are_percent_encoded_and_arrive_intact() -> None:
    async def go() -> None:
        async with mcp_client(path_app([])) as client:
            for value in TRICKY:
                result = await client.call_tool("public", {"name": value})
                assert not result.is_error, text_of(result)
                assert result.structured_content == {"name": value}
            deep = "a/b c/%d?e#f"
            result = await client.call_tool("files", {"rest": deep})
            assert result.structured_content == {"rest": deep}

    anyio.run(go)


def test_a_slash_in_a_path_value_never_reaches_another_route() -> None:
    reached: list[str] = []

    async def go() -> None:
        async with mcp_client(path_app(reached)) as client:
            result = await client.call_tool("public", {"name": "x/secret"})
            assert result.is_error
            assert "cannot contain '/'" in text_of(result)
            empty = await client.call_tool("public", {"name": ""})
            assert empty.is_error

    anyio.run(go)
    assert reached == []


def test_a_path_value_naming_another_route_is_refused() -> None:
    reached: list[str] = []

    async def go() -> None:
        app = path_app(reached)
        async with mcp_client(app) as client:
            result = await client.call_tool("rename", {"name": "purge"})
            assert result.is_error
            assert "another route" in text_of(result)
            other = await client.call_tool("rename", {"name": "milk"})
            assert other.structured_content == {"touched": "milk"}
        async with running(app) as http:  # the route itself still answers HTTP clients
            assert (await http.post("/items/purge")).json() == {"purged": True}

    anyio.run(go)
    assert reached == ["purge"]


def test_a_value_the_converter_refuses_is_an_error_result() -> None:
    app = App()
    app.install(MCP())
    seen: list[str] = []

    @app.get("/things/{thing_id:int}", mcp=True)
    async def thing(thing_id: int) -> dict[str, int]:
        """One thing."""
        return {"id": thing_id}

    @app.get("/things/{slug}")
    async def by_slug(slug: str) -> dict[str, str]:
        seen.append(slug)
        return {"slug": slug}

    async def go() -> None:
        async with mcp_client(app) as client:
            result = await client.call_tool("thing", {"thing_id": "abc"})
            assert result.is_error
            assert "not a valid int" in text_of(result)
            assert (await client.call_tool("thing", {"thing_id": 7})).structured_content == {
                "id": 7
            }

    anyio.run(go)
    assert seen == []


def test_null_arguments_are_left_out_and_booleans_are_sent_as_the_router_reads_them() -> None:
    app = App()
    app.install(MCP())

    @app.get("/search/{exact}", mcp=True)
    async def search(
        exact: bool, q: str = "everything", limit: int | None = None
    ) -> dict[str, Any]:
        """Search."""
        return {"exact": exact, "q": q, "limit": limit}

    @app.post("/notes", mcp=True)
    async def note(
        text: Annotated[str, Body()],
        tag: Annotated[str, Body()] = "none",
        color: Annotated[str | None, Body()] = "red",
    ) -> dict[str, Any]:
        """Write a note."""
        return {"text": text, "tag": tag, "color": color}

    async def go() -> None:
        async with mcp_client(app) as client:
            found = await client.call_tool("search", {"exact": True, "q": None, "limit": None})
            assert found.structured_content == {"exact": True, "q": "everything", "limit": None}
            found = await client.call_tool("search", {"exact": False, "limit": 3})
            assert found.structured_content == {"exact": False, "q": "everything", "limit": 3}
            missing = await client.call_tool("search", {"exact": None})
            assert missing.is_error
            assert "needs the argument 'exact'" in text_of(missing)
            saved = await client.call_tool("note", {"text": "hi", "tag": None, "color": None})
            assert saved.structured_content == {"text": "hi", "tag": "none", "color": None}

    anyio.run(go)


def test_path_parameters_sharing_a_prefix_each_get_their_own_value() -> None:
    app = App()
    app.install(MCP())

    @app.get("/a/{item_id}/b/{item}", mcp=True)
    async def pair(item: str, item_id: str) -> dict[str, str]:
        """Two parameters, one name a prefix of the other."""
        return {"item": item, "item_id": item_id}

    async def go() -> None:
        async with mcp_client(app) as client:
            result = await client.call_tool("pair", {"item": "two", "item_id": "one"})
            assert result.structured_content == {"item": "two", "item_id": "one"}

    anyio.run(go)


def test_a_handler_mark_inside_an_mcp_router_names_the_tool_and_the_resource() -> None:
    app = App()
    app.install(MCP())
    router = Router(prefix="/lib", mcp=True)

    @router.get("/count")
    @mcp.tool(name="book_count", description="How many books there are.", title="Count")
    async def count() -> dict[str, int]:
        """Not this docstring."""
        return {"books": 3}

    @router.get("/books")
    @mcp.resource(uri="lib://books", mime_type="application/json")
    async def books() -> list[str]:
        return ["Dune"]

    @router.get("/plain")
    async def plain() -> dict[str, int]:
        """A tool by the router's mark alone."""
        return {"n": 1}

    app.include_router(router)

    async def go() -> None:
        async with mcp_client(app) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert set(tools) == {"book_count", "plain"}
            assert tools["book_count"].description == "How many books there are."
            assert tools["book_count"].title == "Count"
            resources = (await client.list_resources()).resources
            assert [str(r.uri) for r in resources] == ["lib://books"]

    anyio.run(go)


def test_a_route_option_and_a_mark_setting_one_key_twice_fail_at_start_up() -> None:
    from trivium.errors import ConfigurationError

    app = App()
    app.install(MCP())

    @app.get("/a", mcp={"name": "first"})
    @mcp.tool(name="second")
    async def a() -> dict[str, int]:
        return {"a": 1}

    with pytest.raises(ConfigurationError, match="'name'") as info:
        app.plugin(MCP).catalogue(app)
    assert info.value.code == "mcp-option"


def test_a_handler_401_or_403_is_an_error_result_and_a_redirect_says_where() -> None:
    app = App()
    app.install(MCP())

    @app.get("/locked", mcp=True)
    async def locked() -> dict[str, str]:
        """Always refuses."""
        raise HTTPException(403, "this shelf is locked")

    @app.get("/moved", mcp=True)
    async def moved() -> RedirectResponse:
        """Moved elsewhere."""
        return RedirectResponse("/new-place", 307)

    @app.get("/old-shelf", mcp={"resource": True, "uri": "lib://old-shelf"})
    async def old_shelf() -> RedirectResponse:
        return RedirectResponse("/shelf", 308)

    async def go() -> None:
        async with mcp_client(app) as client:
            result = await client.call_tool("locked", {})
            assert result.is_error
            assert text_of(result) == "HTTP 403: this shelf is locked"
            redirect = await client.call_tool("moved", {})
            assert redirect.is_error
            assert "redirect (HTTP 307) to /new-place" in text_of(redirect)
            with pytest.raises(MCPError, match=r"redirect \(HTTP 308\) to /shelf"):
                await client.read_resource("lib://old-shelf")

    anyio.run(go)


def test_plain_json_results_are_wrapped_like_lists() -> None:
    app = App()
    app.install(MCP())

    @app.get("/size", mcp=True)
    async def size() -> int:
        """The size."""
        return 3

    @app.get("/motto", mcp=True)
    async def motto() -> str:
        """The motto."""
        return "read more"

    async def go() -> None:
        async with mcp_client(app) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            schema = tools["size"].output_schema
            assert schema is not None
            assert schema["properties"]["result"] == {"type": "integer"}
            assert (await client.call_tool("size", {})).structured_content == {"result": 3}
            got = await client.call_tool("motto", {})
            assert got.structured_content == {"result": "read more"}

    anyio.run(go)
