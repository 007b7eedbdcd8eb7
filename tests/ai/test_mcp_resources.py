"""MCP resources: which route a URI reads, duplicate URIs, binary and text contents."""

from __future__ import annotations

import base64

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from tests.ai.mcpkit import mcp_client

from trivium import App
from trivium.ai import MCP
from trivium.errors import ConfigurationError
from trivium.http import Response
from trivium.responses import PlainTextResponse

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"


def notes_app() -> App:
    app = App()
    app.install(MCP())

    @app.get("/notes/{name}", mcp={"resource": True, "uri": "notes://{name}"})
    async def note(name: str) -> dict[str, str]:
        """One note."""
        return {"note": name}

    @app.get("/notes-index", mcp={"resource": True, "uri": "notes://all"})
    async def index() -> dict[str, list[str]]:
        """Every note."""
        return {"index": ["a", "b"]}

    @app.get("/texts/{stem}", mcp={"resource": True, "uri": "notes://{stem}.txt"})
    async def text(stem: str) -> dict[str, str]:
        """One note as text."""
        return {"text": stem}

    return app


def test_a_fixed_uri_wins_over_a_template_registered_before_it() -> None:
    async def go() -> None:
        async with mcp_client(notes_app()) as client:
            read = await client.read_resource("notes://all")
            assert read.contents[0].text == '{"index":["a","b"]}'  # type: ignore[union-attr]
            other = await client.read_resource("notes://x")
            assert other.contents[0].text == '{"note":"x"}'  # type: ignore[union-attr]

    anyio.run(go)


def test_the_template_with_more_fixed_text_wins() -> None:
    async def go() -> None:
        async with mcp_client(notes_app()) as client:
            read = await client.read_resource("notes://plan.txt")
            assert read.contents[0].text == '{"text":"plan"}'  # type: ignore[union-attr]

    anyio.run(go)


def test_two_resources_with_one_uri_fail_at_start_up() -> None:
    app = App()
    app.install(MCP())

    @app.get("/a", mcp={"resource": True, "uri": "notes://all"})
    async def a() -> int:
        return 1

    @app.get("/b", mcp={"resource": True, "uri": "notes://all"})
    async def b() -> int:
        return 2

    with pytest.raises(ConfigurationError, match=r"'/a' and '/b'.*notes://all") as info:
        app.plugin(MCP).catalogue(app)
    assert info.value.code == "mcp-resource-uri"


def test_two_templates_of_one_shape_fail_at_start_up() -> None:
    app = App()
    app.install(MCP())

    @app.get("/a/{x}", mcp={"resource": True, "uri": "notes://{x}"})
    async def a(x: str) -> str:
        return x

    @app.get("/b/{y}", mcp={"resource": True, "uri": "notes://{y}"})
    async def b(y: str) -> str:
        return y

    with pytest.raises(ConfigurationError, match=r"notes://\{y\}") as info:
        app.plugin(MCP).catalogue(app)
    assert info.value.code == "mcp-resource-uri"


def test_a_binary_resource_is_read_as_a_base64_blob() -> None:
    app = App()
    app.install(MCP())

    @app.get("/logo", mcp={"resource": True, "uri": "img://logo", "mime_type": "image/png"})
    async def logo() -> Response:
        return Response(PNG, media_type="image/png")

    async def go() -> None:
        async with mcp_client(app) as client:
            listed = (await client.list_resources()).resources
            assert listed[0].mime_type == "image/png"
            read = await client.read_resource("img://logo")
            content = read.contents[0]
            assert content.mime_type == "image/png"
            assert base64.b64decode(content.blob) == PNG  # type: ignore[union-attr]

    anyio.run(go)


def test_an_undeclared_binary_resource_is_a_blob_too() -> None:
    app = App()
    app.install(MCP())

    @app.get("/raw", mcp={"resource": True, "uri": "raw://bytes"})
    async def raw() -> Response:
        return Response(PNG, media_type="application/octet-stream")

    async def go() -> None:
        async with mcp_client(app) as client:
            read = await client.read_resource("raw://bytes")
            content = read.contents[0]
            assert content.mime_type == "application/octet-stream"
            assert base64.b64decode(content.blob) == PNG  # type: ignore[union-attr]

    anyio.run(go)


def test_a_declared_text_type_reads_back_as_that_text() -> None:
    app = App()
    app.install(MCP())

    @app.get("/motto", mcp={"resource": True, "uri": "text://motto", "mime_type": "text/plain"})
    async def motto() -> str:
        return "remember the milk"

    async def go() -> None:
        async with mcp_client(app) as client:
            listed = (await client.list_resources()).resources
            assert listed[0].mime_type == "text/plain"
            content = (await client.read_resource("text://motto")).contents[0]
            assert content.mime_type == "text/plain"
            assert content.text == "remember the milk"  # type: ignore[union-attr]

    anyio.run(go)


def test_a_route_with_a_response_class_is_listed_with_its_type() -> None:
    app = App()
    app.install(MCP())

    @app.get(
        "/readme",
        mcp={"resource": True, "uri": "text://readme"},
        response_class=PlainTextResponse,
    )
    async def readme() -> str:
        return "read me"

    async def go() -> None:
        async with mcp_client(app) as client:
            listed = (await client.list_resources()).resources
            assert listed[0].mime_type == "text/plain"
            content = (await client.read_resource("text://readme")).contents[0]
            assert content.mime_type == "text/plain"
            assert content.text == "read me"  # type: ignore[union-attr]

    anyio.run(go)


def test_a_bad_mime_type_fails_at_start_up() -> None:
    app = App()
    app.install(MCP())

    @app.get("/x", mcp={"resource": True, "uri": "x://x", "mime_type": "plain"})
    async def x() -> int:
        return 1

    with pytest.raises(ConfigurationError, match=r"mime_type 'plain'.*type/subtype") as info:
        app.plugin(MCP).catalogue(app)
    assert info.value.code == "mcp-option"


def test_an_unknown_resource_is_still_refused() -> None:
    async def go() -> None:
        async with mcp_client(notes_app()) as client:
            with pytest.raises(MCPError, match="unknown resource"):
                await client.read_resource("other://all")

    anyio.run(go)
