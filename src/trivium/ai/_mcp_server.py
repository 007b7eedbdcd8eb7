"""The SDK's low-level `Server` wired to the MCP plugin's catalogue (imports `mcp`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlencode

import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError

from trivium.ai._mcp import FORBIDDEN
from trivium.ai._mcp import UNAUTHENTICATED
from trivium.ai._mcp_dispatch import Outcome
from trivium.ai._mcp_dispatch import dispatch
from trivium.ai._mcp_paths import TARGET_KEY
from trivium.ai._mcp_paths import request_path

if TYPE_CHECKING:
    from trivium.ai._mcp import MCP
    from trivium.ai._mcp import McpTool
    from trivium.app import App

__all__ = ["build_server"]

_REDIRECT = 300
_CLIENT_ERROR = 400
_SERVER_ERROR = 500


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
            method, path, query, body, content_type = _request(tool, params.arguments or {})
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
            mime = (outcome.header("content-type") or resource.mime_type or "").split(";")[0]
            return types.ReadResourceResult(
                contents=[
                    types.TextResourceContents(
                        uri=uri, mime_type=mime or None, text=outcome.body.decode("utf-8")
                    )
                ]
            )
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
        try:
            text = await prompt.render(params.arguments or {})
        except ValueError as exc:
            raise MCPError(types.INVALID_PARAMS, str(exc)) from None
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


def _request(
    entry: McpTool, arguments: Mapping[str, Any]
) -> tuple[str, str, list[tuple[str, str]], bytes | None, str | None]:
    """Turn tool arguments into the route's request (method, encoded path, query, body).

    A `null` argument is left out of the request (the parameter's default applies),
    except for a JSON body field whose schema accepts `null`.

    Raises:
        ValueError: an unknown argument, a missing path argument or a path value the
            route's parameter cannot take.
    """
    tool = entry.tool
    query: list[tuple[str, str]] = []
    body: Any = None
    fields: dict[str, Any] = {}
    form: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    unknown = sorted(set(arguments) - set(tool.arguments))
    if unknown:
        raise ValueError(
            f"tool {tool.name!r} takes no argument(s) {', '.join(unknown)}; "
            f"it takes {', '.join(tool.arguments) or 'none'}"
        )
    for name, where in tool.arguments.items():
        value = arguments.get(name)
        if where.location == "path":
            if value is None:
                raise ValueError(f"tool {tool.name!r} needs the argument {name!r}")
            values[where.name] = _scalar(value)
        elif name not in arguments:
            continue
        elif where.location == "body":
            body = value
        elif where.location == "body_field":
            if value is not None or _nullable(tool.input_schema["properties"][name]):
                fields[where.name] = value
        else:
            items = value if isinstance(value, list) else [value]
            pairs = [(where.name, _scalar(v)) for v in items if v is not None]
            (query if where.location == "query" else form).extend(pairs)
    try:
        path = request_path(entry.route.path, values)
    except ValueError as exc:
        raise ValueError(f"tool {tool.name!r}: {exc}") from None
    if form:
        return (
            tool.method,
            path,
            query,
            urlencode(form).encode(),
            "application/x-www-form-urlencoded",
        )
    if fields:
        body = fields
    payload = json.dumps(body).encode() if body is not None else None
    return tool.method, path, query, payload, "application/json" if payload else None


def _nullable(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    options = [*schema.get("anyOf", ()), *schema.get("oneOf", ())]
    return any(isinstance(option, Mapping) and _nullable(option) for option in options)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


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
