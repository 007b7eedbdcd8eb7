"""Routes offered to LLM agents: tool definitions in OpenAI, Anthropic and MCP formats."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic import BaseModel

from trivium import App
from trivium import Body
from trivium import File
from trivium import Form
from trivium import Header
from trivium import Query
from trivium import UploadFile
from trivium.errors import ConfigurationError
from trivium.openapi import ToolArgument
from trivium.openapi import tool_schemas
from trivium.openapi import tools

pytestmark = pytest.mark.drives_no_app


class Tag(BaseModel):
    label: str


class Item(BaseModel):
    name: str
    tags: list[Tag] = []


class Filters(BaseModel):
    limit: int = 10


class Contact(BaseModel):
    email: str
    message: str = ""


def shop() -> App:
    app = App()

    @app.get("/items/{item_id:int}", tool=True)
    def read_item(
        item_id: int, verbose: bool = False, x_trace: Annotated[str | None, Header()] = None
    ) -> Item:
        """Read one item by id."""
        raise NotImplementedError

    @app.post("/items", tool={"name": "create_item", "description": "Make an item."})
    def create(item: Item) -> Item:
        return item

    @app.get("/secret")
    def not_a_tool() -> None: ...

    return app


def test_only_opted_in_routes_become_tools() -> None:
    assert [t.name for t in tools(shop())] == ["read_item_items__item_id__get", "create_item"]


def test_openai_format() -> None:
    first = tool_schemas(shop(), "openai")[0]
    assert first == {
        "type": "function",
        "function": {
            "name": "read_item_items__item_id__get",
            "description": "Read Item\n\nRead one item by id.",
            "parameters": {
                "type": "object",
                "properties": {
                    "item_id": {"type": "integer", "title": "Item Id"},
                    "verbose": {"type": "boolean", "title": "Verbose", "default": False},
                },
                "required": ["item_id"],
            },
        },
    }


def test_anthropic_and_mcp_formats_carry_the_same_schema() -> None:
    app = shop()
    openai = tool_schemas(app, "openai")
    anthropic = tool_schemas(app, "anthropic")
    mcp = tool_schemas(app, "mcp")
    for o, a, m in zip(openai, anthropic, mcp, strict=True):
        function = o["function"]
        assert a == {
            "name": function["name"],
            "description": function["description"],
            "input_schema": function["parameters"],
        }
        assert m == {
            "name": function["name"],
            "description": function["description"],
            "inputSchema": function["parameters"],
        }


def test_app_tool_schemas_delegates_to_the_battery() -> None:
    app = shop()
    assert app.tool_schemas(format="mcp") == tool_schemas(app, "mcp")


def test_name_and_description_overrides() -> None:
    tool = tools(shop())[1]
    assert (tool.name, tool.description) == ("create_item", "Make an item.")


def test_body_model_is_one_argument_with_its_definitions_inlined() -> None:
    tool = tools(shop())[1]
    schema = tool.input_schema
    assert schema["properties"]["item"] == {"$ref": "#/$defs/Item", "title": "Item"}
    assert schema["required"] == ["item"]
    assert set(schema["$defs"]) == {"Item", "Tag"}
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"item": {"name": "x", "tags": [{"label": "a"}]}})
    assert not validator.is_valid({"item": {"tags": []}})


def test_arguments_say_where_each_value_goes() -> None:
    read, create = tools(shop())
    assert (read.method, read.path) == ("GET", "/items/{item_id}")
    assert read.arguments == {
        "item_id": ToolArgument("path", "item_id"),
        "verbose": ToolArgument("query", "verbose"),
    }
    assert create.arguments == {"item": ToolArgument("body", "item")}


def test_embedded_bodies_query_models_and_forms_are_spread_into_arguments() -> None:
    app = App()

    @app.post("/a", tool=True)
    def a(
        filters: Annotated[Filters, Query()],
        item: Annotated[Item, Body(embed=True)],
        note: Annotated[str, Body()] = "",
    ) -> None: ...

    @app.post("/b", tool=True)
    def b(title: Annotated[str, Form()], count: Annotated[int, Form()] = 1) -> None: ...

    first, second = tools(app)
    assert first.arguments == {
        "limit": ToolArgument("query", "limit"),
        "item": ToolArgument("body_field", "item"),
        "note": ToolArgument("body_field", "note"),
    }
    assert first.input_schema["required"] == ["item"]
    assert second.arguments == {
        "title": ToolArgument("form_field", "title"),
        "count": ToolArgument("form_field", "count"),
    }


def test_undeclared_path_parameters_are_arguments() -> None:
    app = App()

    @app.get("/users/{user_id:int}/posts", tool=True)
    def posts() -> None: ...

    schema = tools(app)[0].input_schema
    assert schema["properties"]["user_id"] == {"type": "integer"}
    assert schema["required"] == ["user_id"]


def test_routes_taking_files_cannot_be_tools() -> None:
    app = App()

    @app.post("/upload", tool=True)
    def upload(file: Annotated[UploadFile, File()]) -> None: ...

    with pytest.raises(ConfigurationError, match="file uploads"):
        tools(app)


def test_arguments_with_one_name_in_two_places_are_an_error() -> None:
    app = App()

    @app.post("/items/{item}", tool=True)
    def clash(item: Annotated[Item, Body()], other: Annotated[str, Body()]) -> None: ...

    with pytest.raises(ConfigurationError, match="two arguments named 'item'"):
        tools(app)


@pytest.mark.parametrize("name", ["has space", "x" * 65])
def test_invalid_tool_names_are_an_error(name: str) -> None:
    app = App()

    @app.get("/", tool={"name": name})
    def home() -> None: ...

    with pytest.raises(ConfigurationError, match="must match"):
        tools(app)


def test_repeated_tool_names_are_an_error() -> None:
    app = App()

    @app.get("/a", tool={"name": "same"})
    def a() -> None: ...

    @app.get("/b", tool={"name": "same"})
    def b() -> None: ...

    with pytest.raises(ConfigurationError, match="two tools are named 'same'"):
        tools(app)


def test_unknown_format_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown tool format 'gemini'"):
        tool_schemas(shop(), "gemini")


def test_returned_schemas_are_copies() -> None:
    app = shop()
    first: dict[str, Any] = tool_schemas(app, "mcp")[0]
    first["inputSchema"]["properties"].clear()
    assert tool_schemas(app, "mcp")[0]["inputSchema"]["properties"]


def test_tools_can_be_hidden_from_the_document() -> None:
    app = App()

    @app.get("/internal", tool=True, include_in_schema=False)
    def internal(q: str) -> None: ...

    assert app.openapi()["paths"] == {}
    assert [t.name for t in tools(app)] == ["internal_internal_get"]


def test_form_models_are_spread_into_arguments() -> None:
    app = App()

    @app.post("/contact", tool=True)
    def contact(form: Annotated[Contact, Form()]) -> None: ...

    tool = tools(app)[0]
    assert tool.arguments == {
        "email": ToolArgument("form_field", "email"),
        "message": ToolArgument("form_field", "message"),
    }
    assert tool.input_schema["required"] == ["email"]


def test_tools_are_built_once() -> None:
    app = shop()
    assert tools(app)[0] is tools(app)[0]
