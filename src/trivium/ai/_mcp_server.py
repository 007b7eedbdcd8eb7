"""The SDK's low-level `Server` wired to the MCP plugin's catalogue (imports `mcp`)."""

from __future__ import annotations

import base64
import json
import logging
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import unquote

import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError

from trivium.ai._mcp import FORBIDDEN
from trivium.ai._mcp import UNAUTHENTICATED
from trivium.ai._mcp_arguments import tool_request
from trivium.ai._mcp_dispatch import Outcome
from trivium.ai._mcp_dispatch import dispatch
from trivium.ai._mcp_paths import TARGET_KEY
from trivium.ai._mcp_paths import request_path

if TYPE_CHECKING:
    from trivium.ai._mcp import MCP
    from trivium.ai._mcp import McpTool
    from trivium.ai._mcp_catalogue import Resource
    from trivium.app import App

__all__ = ["build_server"]

_REDIRECT = 300
_CLIENT_ERROR = 400
_SERVER_ERROR = 500
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/ecmascript",
        "application/x-www-form-urlencoded",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/graphql",
        "application/sql",
    }
)
_log = logging.getLogger("trivium.ai.mcp")


def build_server(plugin: MCP, app: App) -> Server[Any]:  # noqa: C901 - one closure per handler
    """Return the SDK server answering from `plugin`'s tools, resources and prompts."""

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        del ctx, params
        return types.ListToolsResult(tools=[_definition(tool) for tool in plugin.visible()])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = plugin.tools.get(params.name)
        current = plugin.current()
        if tool is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {params.name!r}")
        if params.name in current.refused:
            status, why = current.refused[params.name]
            code = UNAUTHENTICATED if status == 401 else FORBIDDEN
            raise MCPError(code, f"tool {params.name!r} refused: {why}")
        try:
            method, path, query, body, content_type = tool_request(tool, params.arguments or {})
        except ValueError as exc:
            return _error(str(exc))
        sent = 0

        async def progress(chunk: bytes) -> None:
            nonlocal sent
            sent += 1
            await ctx.session.report_progress(float(sent), None, chunk.decode("utf-8", "replace"))

        outcome = await dispatch(
            app,
            current.caller,
            method,
            path,
            query,
            body,
            content_type,
            on_chunk=progress,
            extra_scope={TARGET_KEY: tool.route},
        )
        return _result(tool, outcome)

    async def list_resources(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        del ctx, params
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=r.uri, name=r.name, description=r.description, mime_type=r.mime_type
                )
                for r in plugin.resources
                if not r.template
            ]
        )

    async def list_templates(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        del ctx, params
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=r.uri,
                    name=r.name,
                    description=r.description,
                    mime_type=r.mime_type,
                )
                for r in plugin.resources
                if r.template
            ]
        )

    async def read_resource(
        ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        del ctx
        uri = str(params.uri)
        for resource in plugin.resources:
            found = resource.pattern.match(uri)
            if found is None:
                continue
            values = {key: unquote(value) for key, value in found.groupdict().items()}
            try:
                path = request_path(resource.route.path, values)
            except ValueError as exc:
                raise MCPError(types.INVALID_PARAMS, f"resource {uri!r}: {exc}") from None
            target = {TARGET_KEY: resource.route}
            outcome = await dispatch(app, plugin.current().caller, "GET", path, extra_scope=target)
            _raise_refusal(outcome, f"resource {uri!r}")
            if outcome.status >= _CLIENT_ERROR:
                raise MCPError(types.INVALID_PARAMS, f"resource {uri!r}: {_detail(outcome)}")
            if outcome.status >= _REDIRECT:
                where = outcome.header("location") or "elsewhere"
                raise MCPError(
                    types.INVALID_PARAMS,
                    f"resource {uri!r}: the route answered a redirect (HTTP {outcome.status}) "
                    f"to {where}, which a read does not follow",
                )
            return types.ReadResourceResult(contents=[_contents(uri, resource, outcome)])
        raise MCPError(types.INVALID_PARAMS, f"unknown resource {uri!r}")

    async def list_prompts(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        del ctx, params
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=p.name,
                    description=p.description,
                    arguments=[
                        types.PromptArgument(name=name, required=required)
                        for name, required in p.arguments.items()
                    ],
                )
                for p in plugin.prompts.values()
            ]
        )

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        del ctx
        prompt = plugin.prompts.get(params.name)
        if prompt is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown prompt {params.name!r}")
        arguments = params.arguments or {}
        try:
            prompt.check(arguments)
        except ValueError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None
        try:
            text = await prompt.render(arguments)
        except Exception:  # noqa: BLE001 - the function's own failure: logged, not shown
            _log.exception("MCP prompt %r failed", prompt.name)
            raise MCPError(types.INTERNAL_ERROR, f"prompt {prompt.name!r} failed") from None
        return types.GetPromptResult(
            description=prompt.description,
            messages=[
                types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
            ],
        )

    handlers: dict[str, Any] = {"on_list_tools": list_tools, "on_call_tool": call_tool}
    if plugin.resources:
        handlers.update(
            on_list_resources=list_resources,
            on_list_resource_templates=list_templates,
            on_read_resource=read_resource,
        )
    if plugin.prompts:
        handlers.update(on_list_prompts=list_prompts, on_get_prompt=get_prompt)
    name = plugin.name or str(getattr(app, "title", "") or "trivium")
    return Server(name, version=plugin.version, instructions=plugin.instructions, **handlers)


def _definition(entry: McpTool) -> types.Tool:
    tool = entry.tool
    return types.Tool(
        name=tool.name,
        title=entry.title,
        description=tool.description or None,
        input_schema=tool.input_schema,
        output_schema=tool.output_schema,
    )


def _contents(
    uri: str, resource: Resource, outcome: Outcome
) -> types.TextResourceContents | types.BlobResourceContents:
    """Return the read's contents: text for a textual media type, else base64 bytes.

    The media type is the route's `Content-Type`, except that a JSON string answered
    for a resource declared with a non-JSON text type (`-> str` with
    `mime_type="text/plain"`) is that text, with the declared type.
    """
    actual, _, params = (outcome.header("content-type") or "").partition(";")
    actual = actual.strip().lower()
    declared = resource.mime_type.split(";")[0].strip().lower()
    if _is_json(actual) and _is_text(declared) and not _is_json(declared):
        try:
            value = json.loads(outcome.body)
        except ValueError:
            value = None
        if isinstance(value, str):
            return types.TextResourceContents(uri=uri, mime_type=resource.mime_type, text=value)
    mime = actual or declared
    if _is_text(mime):
        charset = params.partition("charset=")[2].split(";")[0].strip().strip('"') or "utf-8"
        try:
            text = outcome.body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass  # not the text it claims to be: sent as bytes
        else:
            return types.TextResourceContents(uri=uri, mime_type=mime, text=text)
    blob = base64.b64encode(outcome.body).decode("ascii")
    return types.BlobResourceContents(uri=uri, mime_type=mime, blob=blob)


def _is_json(mime: str) -> bool:
    return mime == "application/json" or mime.endswith("+json")


def _is_text(mime: str) -> bool:
    return (
        mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith(("+json", "+xml", "+yaml"))
    )


def _detail(outcome: Outcome) -> str:
    try:
        data = json.loads(outcome.body)
    except ValueError:
        return outcome.body.decode("utf-8", "replace") or f"HTTP {outcome.status}"
    detail = data.get("detail", data) if isinstance(data, dict) else data
    return detail if isinstance(detail, str) else json.dumps(detail)


def _raise_refusal(outcome: Outcome, what: str) -> None:
    if outcome.status == 401:
        raise MCPError(UNAUTHENTICATED, f"{what} refused: {_detail(outcome)}")
    if outcome.status == 403:
        raise MCPError(FORBIDDEN, f"{what} refused: {_detail(outcome)}")


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True
    )


def _result(entry: McpTool, outcome: Outcome) -> types.CallToolResult:
    """Return the tool result of the route's answer.

    A 401/403 of the route itself is an error result: the guards' refusals are answered
    before the call, as JSON-RPC errors. A redirect is not followed: an error result
    says where it points.
    """
    status = outcome.status
    if status >= _SERVER_ERROR:
        return _error(f"tool {entry.tool.name!r} failed (HTTP {status})")
    if status >= _CLIENT_ERROR:
        return _error(f"HTTP {status}: {_detail(outcome)}")
    if status >= _REDIRECT:
        location = outcome.header("location")
        where = f" to {location}" if location else ""
        return _error(
            f"tool {entry.tool.name!r}: the route answered a redirect (HTTP {status}){where}, "
            "which a tool call does not follow"
        )
    text = outcome.body.decode("utf-8", "replace")
    structured: Any = None
    if entry.tool.output_schema is not None and text:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        else:
            structured = {"result": data} if entry.wrapped_output else data
            if not isinstance(structured, dict):
                structured = None
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=structured
    )
