"""Which routes the MCP server offers: tools and resources, from route options and marks.

A route is offered when its `mcp=` option (its own or its router's) or its handler's
`@mcp.tool`/`@mcp.resource` mark says so (`route_settings` combines them). Tools are
built by `trivium.openapi.route_tools` (names, descriptions, input schemas, where each
argument goes); their output schemas are made objects, wrapping other values as
`{"result": ...}`. Resources are GET routes read through a URI or URI template.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from trivium.ai._mcp_marks import MARK
from trivium.ai._mcp_marks import route_settings
from trivium.ai._mcp_paths import Segment
from trivium.ai._mcp_paths import segments
from trivium.errors import ConfigurationError
from trivium.routing import Route

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.openapi import Tool

__all__ = ["McpTool", "Resource", "Target", "collect", "selection", "targets"]

Target = tuple[Route, tuple[Segment, ...], frozenset[str]]
"""A tool's or resource's route, its path segments and the methods a call uses."""

# Output schemas of handlers returning plain JSON values (no response model to filter).
_PLAIN_OUTPUT: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    list: {"type": "array"},
    dict: {"type": "object"},
}
_DEFS = "#/$defs/"
_PARAM = re.compile(r"{[a-zA-Z_][a-zA-Z0-9_]*}")
_MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


@dataclasses.dataclass(frozen=True, slots=True)
class McpTool:
    """One route offered as an MCP tool."""

    tool: Tool
    """The tool's name, description, schemas and argument locations."""
    route: Route
    """The route a call runs."""
    guards: tuple[Any, ...]
    """The `trivium.auth` guards among the route's dependencies (for `tools/list`)."""
    title: str | None = None
    wrapped_output: bool = False
    """The response is not a JSON object: structured content is `{"result": ...}`."""

    @property
    def scopes(self) -> frozenset[str]:
        """The token scopes the route's guards require."""
        found: set[str] = set()
        for guard in self.guards:
            found.update(getattr(guard, "scopes", ()))
        return frozenset(found)


@dataclasses.dataclass(frozen=True, slots=True)
class Resource:
    """One GET route offered as an MCP resource (or resource template)."""

    uri: str
    name: str
    description: str | None
    mime_type: str
    """The declared media type (`mime_type=`, else the response class's, else JSON)."""
    route: Route
    pattern: re.Pattern[str]
    """Matches the URIs of the resource; a template's parameters are named groups."""
    template: bool


def selection(app: App) -> list[tuple[Route, dict[str, Any]]]:
    """Return the app's routes offered over MCP, with their settings (option and mark).

    Raises:
        ConfigurationError: a bad `mcp=` option or mark, or both setting one key.
    """
    found = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        option = route.options.get("mcp")
        mark = getattr(route.endpoint, MARK, None)
        settings = route_settings(option, mark, f"route {route.path!r}")
        if settings is not None:
            found.append((route, settings))
    return found


def targets(selected: list[tuple[Route, dict[str, Any]]]) -> list[Target]:
    """Return the routes tool calls and resource reads are sent to (see `Target`)."""
    found = []
    for route, settings in selected:
        if settings.get("resource") or "uri" in settings:
            methods = frozenset({"GET"})
        else:
            methods = frozenset(route.methods) - {"HEAD", "OPTIONS"}
        found.append((route, segments(route.path), methods or frozenset(route.methods)))
    return found


def collect(
    app: App, selected: list[tuple[Route, dict[str, Any]]]
) -> tuple[dict[str, McpTool], list[Resource]]:
    """Return the tools (by name) and the resources of the `selected` routes.

    Raises:
        ConfigurationError: a tool name that is invalid or taken twice, a tool route
            taking file uploads, or a bad resource route.
    """
    from trivium.openapi import description_of
    from trivium.openapi import route_tools

    chosen: list[tuple[Route, Any, str | None]] = []
    titles: dict[int, str | None] = {}
    resources: list[Resource] = []
    for route, marked in selected:
        settings = dict(marked)
        if settings.pop("resource", False) or "uri" in settings:
            resources.append(_resource(route, settings))
            continue
        titles[id(route)] = settings.pop("title", None)
        settings.pop("mime_type", None)
        if not settings.get("description"):
            summary = route.options.get("summary")
            settings["description"] = description_of(route) or summary or ""
        default = getattr(route.endpoint, "__name__", None) or route.name
        chosen.append((route, settings or True, default))
    try:
        found = route_tools(app, chosen, output=True)
    except ConfigurationError as exc:
        if exc.code == "tool-file-param":
            raise _upload_error(app, chosen) from None
        raise
    tools: dict[str, McpTool] = {}
    for tool in found:
        target = tool.route
        assert target is not None  # route_tools names the route of each tool
        output, wrapped = _object_schema(tool.output_schema or _plain_output(target))
        tool = dataclasses.replace(tool, output_schema=output)
        title = titles.get(id(target))
        tools[tool.name] = McpTool(tool, target, _guards(target), title, wrapped)
    return tools, _read_order(resources)


def _read_order(resources: list[Resource]) -> list[Resource]:
    """Return `resources` in the order a read tries them; refuse two of one shape.

    Fixed URIs come first, then templates, the one with the most fixed text first (the
    first registered on a tie), so `notes://all` is not read by `notes://{name}`.

    Raises:
        ConfigurationError: two resources with one URI, or two templates that differ
            only in their parameters' names (a read could reach only one of them).
    """
    seen: dict[str, Resource] = {}
    for resource in resources:
        shape = _PARAM.sub("{}", resource.uri)
        other = seen.setdefault(shape, resource)
        if other is resource:
            continue
        if resource.template:
            what = f"are MCP resource templates of one shape ({other.uri!r}, {resource.uri!r})"
        else:
            what = f"are both the MCP resource {resource.uri!r}"
        raise ConfigurationError(
            f"routes {other.route.path!r} and {resource.route.path!r} {what}: a read can "
            "reach only one of them; give each its own uri=",
            "mcp-resource-uri",
        )
    fixed = [r for r in resources if not r.template]
    templates = [r for r in resources if r.template]
    templates.sort(key=lambda r: -len(_PARAM.sub("", r.uri)))
    return fixed + templates


def _mime_type(route: Route, settings: Mapping[str, Any]) -> str:
    """The resource's declared media type: `mime_type=`, else the response class's, else JSON.

    Raises:
        ConfigurationError: a `mime_type` that is not a `type/subtype` string.
    """
    declared = settings.get("mime_type")
    if declared is None:
        response_class = route.options.get("response_class")
        return getattr(response_class, "media_type", None) or "application/json"
    if not isinstance(declared, str) or not _MEDIA_TYPE.match(declared.split(";")[0].strip()):
        raise ConfigurationError(
            f"route {route.path!r}: the MCP resource mime_type {declared!r} is not a media "
            "type; give type/subtype, such as 'text/markdown' or 'image/png'",
            "mcp-option",
        )
    return declared


def _resource(route: Route, settings: Mapping[str, Any]) -> Resource:
    if "GET" not in route.methods:
        raise ConfigurationError(
            f"route {route.path!r} is an MCP resource but does not answer GET; "
            "offer it as a tool (mcp=True) instead",
            "mcp-resource-method",
        )
    path = route.path
    uri = settings.get("uri") or f"trivium://app{path}"
    params = re.findall(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::[^}]*)?}", uri)
    if sorted(params) != sorted(route.template.names):
        raise ConfigurationError(
            f"route {path!r}: the MCP resource URI {uri!r} must name each of the "
            f"route's path parameters once ({', '.join(route.template.names) or 'none'}), "
            f"not {', '.join(params) or 'none'}; use the same names in the URI template",
            "mcp-resource-uri",
        )
    uri = re.sub(r"{([a-zA-Z_][a-zA-Z0-9_]*):[^}]*}", r"{\1}", uri)
    pattern = (
        "^"
        + "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
            for part in re.split(r"({[a-zA-Z_][a-zA-Z0-9_]*})", uri)
            if part
        )
        + "$"
    )
    name = settings.get("name") or getattr(route.endpoint, "__name__", None) or path
    from trivium.openapi import description_of

    return Resource(
        uri,
        name,
        settings.get("description") or description_of(route) or None,
        _mime_type(route, settings),
        route,
        re.compile(pattern),
        bool(params),
    )


def _plain_output(route: Route) -> dict[str, Any] | None:
    """The output schema of a handler returning a plain JSON value (`-> int`, `-> str`)."""
    from trivium.responses import JSONResponse

    if route.response_model is not None or route.options.get("response_class") not in (
        None,
        JSONResponse,
    ):
        return None
    try:
        annotation = typing.get_type_hints(route.endpoint).get("return")
    except Exception:  # noqa: BLE001 - an unresolvable hint just gives no schema
        return None
    schema = _PLAIN_OUTPUT.get(annotation)
    return dict(schema) if schema is not None else None


def _upload_error(app: App, selected: list[tuple[Route, Any, str | None]]) -> ConfigurationError:
    """Say which marked route takes file uploads and how to leave it out of the server."""
    from trivium.openapi import route_tools

    for route, settings, name in selected:
        try:
            route_tools(app, [(route, settings, name)])
        except ConfigurationError as exc:
            if exc.code != "tool-file-param":
                continue
            if route.options.get("mcp") is None:
                fix = "remove @mcp.tool from its handler"
            else:
                fix = (
                    "set mcp=False on the route (it has mcp=... itself, or its router "
                    "marks it: Router(mcp=True) or include_router(..., mcp=True)), or move "
                    "it out of that router"
                )
            return ConfigurationError(
                f"route {route.path!r} takes file uploads, which an MCP tool cannot send; "
                f"leave it out of the MCP server: {fix}",
                "tool-file-param",
            )
    return ConfigurationError("a route marked for MCP takes file uploads", "tool-file-param")


def _guards(route: Route) -> tuple[Any, ...]:
    try:
        from trivium.auth import Guard
    except ImportError:  # pragma: no cover - the auth extra is missing
        return ()
    calls = route.analysis.dependency_calls if route.analysis is not None else []
    return tuple(call for call in calls if isinstance(call, Guard))


def _object_schema(schema: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
    """Return an output schema whose root is an object, and whether it wraps the value."""
    if schema is None:
        return None, False
    root = schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_DEFS):
        root = schema.get("$defs", {}).get(ref[len(_DEFS) :], {})
    if root.get("type") == "object":
        if root is schema:
            return _used_defs(schema), False
        merged = {k: v for k, v in schema.items() if k != "$ref"}
        merged.update({k: v for k, v in root.items() if k != "$defs"})
        return _used_defs(merged), False
    defs = schema.get("$defs")
    inner = {k: v for k, v in schema.items() if k != "$defs"}
    wrapped: dict[str, Any] = {
        "type": "object",
        "properties": {"result": inner},
        "required": ["result"],
    }
    if defs:
        wrapped["$defs"] = defs
    return _used_defs(wrapped), True


def _used_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop the `$defs` entries that nothing in `schema` references, even indirectly.

    A model inlined as the root stays in `$defs` only when it references itself.
    """
    defs = schema.get("$defs")
    if not isinstance(defs, dict):
        return schema
    body = {k: v for k, v in schema.items() if k != "$defs"}
    used: set[str] = set()
    todo = _refs(body)
    while todo:
        name = todo.pop()
        if name not in used and name in defs:
            used.add(name)
            todo += _refs(defs[name])
    kept = {name: definition for name, definition in defs.items() if name in used}
    return {k: kept if k == "$defs" else v for k, v in schema.items() if k != "$defs" or kept}


def _refs(node: object) -> list[str]:
    """Return the names of the `#/$defs/...` entries that `node` references."""
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    if not isinstance(node, dict):
        return []
    ref = node.get("$ref")
    found = (
        [ref[len(_DEFS) :].split("/")[0]] if isinstance(ref, str) and ref.startswith(_DEFS) else []
    )
    return found + [name for value in node.values() for name in _refs(value)]
