"""The MCP server of trivium.ai, driven by the official MCP SDK client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel
from tests.ai.mcpkit import mcp_client
from tests.ai.mcpkit import running

from trivium import App
from trivium import HTTPException
from trivium import Router
from trivium.ai import MCP
from trivium.ai import Prompt
from trivium.ai import mcp
from trivium.errors import ConfigurationError
from trivium.responses import StreamingResponse


class Node(BaseModel):
    """A tree node (self-referencing: children are nodes)."""

    name: str
    children: list[Node] = []


class Todo(BaseModel):
    id: int
    title: str
    done: bool = False


def make_app(**options: Any) -> App:  # noqa: C901 - one handler per tool kind
    app = App(title="To-do")
    app.install(MCP(**options))
    todos: dict[int, Todo] = {}

    @app.post("/todos", mcp=True, status_code=201)
    async def add_todo(title: str, done: bool = False) -> Todo:
        """Add a to-do item."""
        todo = Todo(id=len(todos) + 1, title=title, done=done)
        todos[todo.id] = todo
        return todo

    @app.get("/todos/{todo_id}")
    @mcp.tool(name="get_todo")
    async def read_todo(todo_id: int) -> Todo:
        """Return one to-do item."""
        if todo_id not in todos:
            raise HTTPException(404, f"no to-do {todo_id}")
        return todos[todo_id]

    @app.get("/todos", mcp={"resource": True, "uri": "todo://all"})
    async def all_todos() -> list[Todo]:
        """Every to-do item."""
        return list(todos.values())

    @app.get("/tree", mcp=True)
    async def tree(depth: int = 1) -> Node:
        """Return a tree of the given depth."""
        node = Node(name="leaf")
        for level in range(depth):
            node = Node(name=f"level{level}", children=[node])
        return node

    @app.get("/titles", mcp=True)
    async def titles() -> list[str]:
        """Return the titles."""
        return [t.title for t in todos.values()]

    @app.get("/count")
    async def count() -> int:
        """Not a tool: unmarked."""
        return len(todos)

    @app.get("/stream", mcp=True)
    async def countdown(n: int = 3) -> StreamingResponse:
        """Count down, one line a step."""

        async def lines() -> AsyncIterator[bytes]:
            for i in range(n, 0, -1):
                yield f"{i}\n".encode()

        return StreamingResponse(lines(), media_type="text/plain")

    router = Router(prefix="/admin", mcp=True)

    @router.post("/purge")
    async def purge() -> dict[str, int]:
        """Delete every to-do item."""
        removed = len(todos)
        todos.clear()
        return {"removed": removed}

    @router.get("/secret", mcp=False)
    async def secret() -> str:
        return "not a tool"

    app.include_router(router)
    return app


def run(test: Any, *args: Any) -> Any:
    return anyio.run(test, *args)


def test_lists_only_the_curated_routes_with_names_docstrings_and_schemas() -> None:
    async def go() -> None:
        async with mcp_client(make_app()) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert set(tools) == {"add_todo", "get_todo", "tree", "titles", "countdown", "purge"}
            add = tools["add_todo"]
            assert add.description == "Add a to-do item."
            assert add.input_schema["required"] == ["title"]
            assert set(add.input_schema["properties"]) == {"title", "done"}
            assert add.output_schema is not None
            assert add.output_schema["type"] == "object"
            assert "id" in add.output_schema["properties"]
            # a self-referencing model: the schema references itself through $defs
            node = tools["tree"].output_schema
            assert node is not None
            assert node["type"] == "object"
            assert node["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
            # a list result is wrapped into an object
            listed = tools["titles"].output_schema
            assert listed is not None
            assert listed["required"] == ["result"]

    run(go)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_calls_run_through_the_pipeline_on_both_protocol_revisions(mode: str) -> None:
    async def go() -> None:
        async with mcp_client(make_app(), mode=mode) as client:
            expected = "2026-07-28" if mode == "auto" else "2025-11-25"
            assert client.protocol_version == expected
            added = await client.call_tool("add_todo", {"title": "milk"})
            assert not added.is_error
            assert added.structured_content == {"id": 1, "title": "milk", "done": False}
            got = await client.call_tool("get_todo", {"todo_id": 1})
            assert got.structured_content == {"id": 1, "title": "milk", "done": False}
            deep = await client.call_tool("tree", {"depth": 2})
            assert deep.structured_content["children"][0]["children"][0]["name"] == "leaf"
            titles = await client.call_tool("titles", {})
            assert titles.structured_content == {"result": ["milk"]}
            purged = await client.call_tool("purge", {})
            assert purged.structured_content == {"removed": 1}

    run(go)


def test_errors_are_reported_to_the_model() -> None:
    async def go() -> None:
        async with mcp_client(make_app()) as client:
            missing = await client.call_tool("get_todo", {"todo_id": 7})
            assert missing.is_error
            assert "no to-do 7" in missing.content[0].text  # type: ignore[union-attr]
            invalid = await client.call_tool("get_todo", {"todo_id": "seven"})
            assert invalid.is_error
            assert "422" in invalid.content[0].text  # type: ignore[union-attr]
            unknown_arg = await client.call_tool("tree", {"depht": 2})
            assert unknown_arg.is_error
            assert "depht" in unknown_arg.content[0].text  # type: ignore[union-attr]
            with pytest.raises(MCPError, match="unknown tool 'count'"):
                await client.call_tool("count", {})

    run(go)


def test_streaming_handler_reports_progress() -> None:
    async def go() -> None:
        seen: list[tuple[float, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            del total
            seen.append((progress, message))

        async with mcp_client(make_app()) as client:
            result = await client.call_tool("countdown", {"n": 3}, progress_callback=on_progress)
            assert result.content[0].text == "3\n2\n1\n"  # type: ignore[union-attr]
        assert [message for _, message in seen] == ["3\n", "2\n", "1\n"]
        assert [progress for progress, _ in seen] == [1.0, 2.0, 3.0]

    run(go)


def test_resources_and_prompts() -> None:
    async def go() -> None:
        prompt = Prompt("plan_day", "Plan my day around {task}.", description="Plan a day")
        async with mcp_client(make_app(prompts=[prompt])) as client:
            await client.call_tool("add_todo", {"title": "milk"})
            resources = (await client.list_resources()).resources
            assert [r.uri for r in resources] == ["todo://all"]
            read = await client.read_resource("todo://all")
            assert '"title":"milk"' in read.contents[0].text  # type: ignore[union-attr]
            prompts = (await client.list_prompts()).prompts
            assert prompts[0].name == "plan_day"
            assert prompts[0].arguments is not None
            assert prompts[0].arguments[0].name == "task"
            got = await client.get_prompt("plan_day", {"task": "shopping"})
            assert got.messages[0].content.text == "Plan my day around shopping."  # type: ignore[union-attr]
            with pytest.raises(MCPError, match="needs argument"):
                await client.get_prompt("plan_day", {})

    run(go)


def test_plain_http_requests_are_answered_by_the_sdk_transport() -> None:
    async def go() -> None:
        async with running(make_app()) as http:
            response = await http.post(
                "/mcp",
                content=b"not json",
                headers={
                    "content-type": "application/json",
                    "accept": "application/json, text/event-stream",
                },
            )
            assert 400 <= response.status_code < 500

    run(go)


def test_tool_names_are_checked_at_start_up() -> None:
    app = App()
    app.install(MCP())

    @app.get("/a", mcp={"name": "same"})
    async def a() -> int:
        return 1

    @app.get("/b", mcp={"name": "same"})
    async def b() -> int:
        return 2

    with pytest.raises(ConfigurationError, match="two tools are named 'same'"):
        app.plugin(MCP).catalogue(app)

    long_app = App()
    long_app.install(MCP())

    @long_app.get("/c", mcp={"name": "x" * 65})
    async def c() -> int:
        return 3

    with pytest.raises(ConfigurationError) as info:
        long_app.plugin(MCP).catalogue(long_app)
    assert info.value.code == "tool-name"


def test_bad_mcp_options_fail_at_build() -> None:
    app = App()
    app.install(MCP())

    @app.get("/a", mcp={"nmae": "typo"})
    async def a() -> int:
        return 1

    with pytest.raises(ConfigurationError, match="unknown mcp option"):
        app.build()


def test_mcp_option_without_the_plugin_names_the_fix() -> None:
    app = App()

    @app.get("/a", mcp=True)
    async def a() -> int:
        return 1

    with pytest.raises(ConfigurationError, match="trivium.ai"):
        app.build()


def test_resource_routes_must_answer_get() -> None:
    app = App()
    app.install(MCP())

    @app.post("/a", mcp={"resource": True})
    async def a() -> int:
        return 1

    with pytest.raises(ConfigurationError, match="does not answer GET"):
        app.plugin(MCP).catalogue(app)


def test_a_crashing_tool_is_an_error_result_without_internals() -> None:
    app = App()
    app.install(MCP())

    @app.get("/boom", mcp=True)
    async def boom() -> int:
        """Always fails."""
        raise RuntimeError("secret internals")

    async def go() -> None:
        async with mcp_client(app) as client:
            result = await client.call_tool("boom", {})
            assert result.is_error
            text = result.content[0].text  # type: ignore[union-attr]
            assert text == "tool 'boom' failed (HTTP 500)"

    run(go)


def test_resource_templates_and_function_prompts() -> None:
    app = App()

    async def plan(task: str, minutes: int = 30) -> str:
        """Plan a task."""
        return f"Spend {minutes} minutes on {task}."

    app.install(MCP(prompts=[Prompt("plan", plan)]))

    @app.get("/notes/{note_id:int}")
    @mcp.resource(uri="notes://{note_id}", mime_type="text/plain")
    async def note(note_id: int) -> str:
        """One note."""
        if note_id != 1:
            raise HTTPException(404, "no such note")
        return "remember the milk"

    async def go() -> None:
        async with mcp_client(app) as client:
            templates = (await client.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["notes://{note_id}"]
            read = await client.read_resource("notes://1")
            assert read.contents[0].mime_type == "text/plain"
            assert read.contents[0].text == "remember the milk"  # type: ignore[union-attr]
            with pytest.raises(MCPError, match="no such note"):
                await client.read_resource("notes://2")
            with pytest.raises(MCPError, match="unknown resource"):
                await client.read_resource("other://1")
            prompts = (await client.list_prompts()).prompts
            assert prompts[0].description == "Plan a task."
            arguments = prompts[0].arguments or []
            assert [(a.name, a.required) for a in arguments] == [("task", True), ("minutes", False)]
            got = await client.get_prompt("plan", {"task": "taxes"})
            assert got.messages[0].content.text == "Spend 30 minutes on taxes."  # type: ignore[union-attr]

    run(go)


def test_a_bad_tool_name_stops_the_app_at_start_up() -> None:
    app = App()
    app.install(MCP())

    @app.get("/a", mcp={"name": "has spaces"})
    async def a() -> int:
        return 1

    async def go() -> None:
        with pytest.raises(ConfigurationError, match="must match"):
            async with mcp_client(app):
                pass

    run(go)


def test_a_resource_uri_must_name_the_routes_path_parameters() -> None:
    app = App()
    app.install(MCP())

    @app.get("/books/{book_id}", mcp={"resource": True, "uri": "lib://books/{id}"})
    async def book(book_id: int) -> dict[str, int]:
        return {"id": book_id}

    with pytest.raises(ConfigurationError, match=r"book_id.*not id") as info:
        app.plugin(MCP).catalogue(app)
    assert info.value.code == "mcp-resource-uri"

    static = App()
    static.install(MCP())

    @static.get("/shelves/{shelf}", mcp={"resource": True, "uri": "lib://shelves"})
    async def shelf(shelf: str) -> dict[str, str]:
        return {"shelf": shelf}

    with pytest.raises(ConfigurationError, match="mcp-resource-uri"):
        static.plugin(MCP).catalogue(static)


def test_resource_template_values_are_percent_decoded() -> None:
    app = App()
    app.install(MCP())

    @app.get("/notes/{title}")
    @mcp.resource(uri="notes://{title}")
    async def note(title: str) -> dict[str, str]:
        """One note by title."""
        return {"title": title}

    async def go() -> None:
        async with mcp_client(app) as client:
            read = await client.read_resource("notes://a%20b%3F%23")
            assert read.contents[0].text == '{"title":"a b?#"}'  # type: ignore[union-attr]
            with pytest.raises(MCPError, match="cannot contain '/'"):
                await client.read_resource("notes://a%2Fb")

    run(go)


class Shelf(BaseModel):
    label: str
    todos: list[Todo]


def test_output_schemas_keep_only_the_defs_something_references() -> None:
    app = App()
    app.install(MCP())

    @app.get("/todo", mcp=True)
    async def one() -> Todo:
        return Todo(id=1, title="milk")

    @app.get("/tree", mcp=True)
    async def tree() -> Node:
        return Node(name="leaf")

    @app.get("/shelf", mcp=True)
    async def shelf() -> Shelf:
        return Shelf(label="home", todos=[])

    async def go() -> None:
        async with mcp_client(app) as client:
            tools = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
            assert tools["one"] is not None
            assert "$defs" not in tools["one"]  # the model is inlined, not repeated
            assert tools["one"]["properties"]["title"] == {"title": "Title", "type": "string"}
            assert tools["tree"] is not None
            assert list(tools["tree"]["$defs"]) == ["Node"]  # it references itself
            assert tools["shelf"] is not None
            assert list(tools["shelf"]["$defs"]) == ["Todo"]
            assert tools["shelf"]["properties"]["todos"]["items"] == {"$ref": "#/$defs/Todo"}

    run(go)
