"""Routes offered to LLM agents as tools (function calling, MCP).

A route opts in with the route option `tool=True` (or a dict overriding `name` and
`description`). Each of its methods becomes one tool whose arguments are the route's path
and query parameters and its body merged into one JSON object schema: a parameter by its
wire name, a single JSON body under its parameter name, the fields of an embedded body or
of a form each under their own name. Header and cookie parameters are left to the caller's
transport (credentials), and routes that take file uploads cannot be tools. Referenced
models are kept in the schema's own `$defs`, so each tool schema stands alone.

`tools(app)` returns `Tool` objects that also say where each argument goes in the HTTP
request, for the MCP server to turn a tool call back into a request.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Mapping
from typing import Any
from typing import Literal

from trivium.errors import ConfigurationError
from trivium.openapi._body import body_fields
from trivium.openapi._document import description_of
from trivium.openapi._document import operation_id
from trivium.openapi._operation import CONVERTER_SCHEMAS
from trivium.openapi._operation import openapi_path
from trivium.openapi._operation import unwrap_model
from trivium.openapi._registry import SchemaRegistry
from trivium.openapi._registry import field_type
from trivium.openapi._registry import model_field_type
from trivium.openapi._registry import title_for
from trivium.params import ParamSource
from trivium.routing import Route

__all__ = ["TOOL_FORMATS", "Tool", "ToolArgument", "route_tools", "tool_schemas", "tools"]

ToolFormat = Literal["openai", "anthropic", "mcp"]
TOOL_FORMATS: tuple[str, ...] = ("openai", "anthropic", "mcp")
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_DEFS_REF = "#/$defs/{model}"


@dataclasses.dataclass(frozen=True, slots=True)
class ToolArgument:
    """Where one tool argument goes in the HTTP request."""

    location: Literal["path", "query", "body", "body_field", "form_field"]
    """`body` is the whole JSON body; `body_field`/`form_field` one key of the body."""
    name: str
    """The name in that location (path parameter, query key, body or form key)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Tool:
    """One route method offered as a tool."""

    name: str
    """The tool name (the operationId unless overridden); `[a-zA-Z0-9_-]{1,64}`."""
    description: str
    """The route's summary and description (or the override)."""
    method: str
    """The HTTP method to call."""
    path: str
    """The route path template (`/items/{item_id}`)."""
    input_schema: dict[str, Any]
    """The JSON Schema (an object) of the arguments."""
    arguments: Mapping[str, ToolArgument]
    """Where each argument goes, by argument name."""
    output_schema: dict[str, Any] | None = None
    """The JSON Schema of the response model (`route_tools(..., output=True)` only)."""
    route: Route | None = dataclasses.field(default=None, compare=False, repr=False)
    """The route the tool calls."""


class _Draft:
    """One tool whose schemas wait for the shared registry to resolve."""

    def __init__(
        self,
        route: Route,
        method: str,
        registry: SchemaRegistry,
        settings: Any = None,
        default_name: str | None = None,
    ) -> None:

        if settings is None:
            settings = route.options.get("tool")
        overrides: Mapping[str, Any] = settings if isinstance(settings, Mapping) else {}
        self.route = route
        self.method = method
        self.registry = registry
        self.name: str = overrides.get("name") or default_name or operation_id(route, method)
        if not _NAME.match(self.name):
            raise ConfigurationError(_name_problem(self.name, method, route.path), "tool-name")
        summary = route.options.get("summary") or title_for(route.name or "")
        self.description: str = overrides.get("description") or "\n\n".join(
            part for part in (summary, description_of(route)) if part
        )
        self.path = openapi_path(route.path)
        self.properties: dict[str, Any] = {}
        self.required: list[str] = []
        self.arguments: dict[str, ToolArgument] = {}
        self.output: dict[str, Any] | None = None
        self._collect()

    def _add(
        self, name: str, schema: dict[str, Any], required: bool, argument: ToolArgument
    ) -> None:
        if name in self.properties:
            raise ConfigurationError(
                f"tool {self.name!r} has two arguments named {name!r} (path, query or body); "
                "rename one of the parameters with alias=...",
                "tool-argument-conflict",
            )
        self.properties[name] = schema
        self.arguments[name] = argument
        if required:
            self.required.append(name)

    def _collect(self) -> None:

        route = self.route
        fields = route.analysis.fields if route.analysis is not None else []
        declared_path = set()
        for spec in fields:
            if spec.source is ParamSource.PATH:
                declared_path.add(spec.name)
            if spec.source in (ParamSource.PATH, ParamSource.QUERY):
                if spec.is_model:
                    self._add_model_fields(spec, "query")
                    continue
                required = spec.source is ParamSource.PATH or spec.required
                location: Literal["path", "query"] = (
                    "path" if spec.source is ParamSource.PATH else "query"
                )
                argument = ToolArgument(location, spec.name)
                self._add(spec.name, self.registry.schema(field_type(spec)), required, argument)
        for name, converter in route.template.converters.items():
            if name not in declared_path:
                schema = dict(CONVERTER_SCHEMAS.get(converter.name, {"type": "string"}))
                self._add(name, schema, True, ToolArgument("path", name))
        self._collect_body()

    def _add_model_fields(self, spec: Any, location: Literal["query", "form_field"]) -> None:

        model = unwrap_model(spec.annotation)
        for name, info in getattr(model, "model_fields", {}).items():
            wire = info.alias or name
            schema = self.registry.schema(model_field_type(name, info))
            self._add(wire, schema, info.is_required(), ToolArgument(location, wire))

    def _collect_body(self) -> None:

        specs = body_fields(self.route)
        if any(f.source is ParamSource.FILE for f in specs):
            raise ConfigurationError(
                f"{self.method} {self.route.path} takes file uploads and cannot be offered as "
                "a tool; remove tool=... from the route",
                "tool-file-param",
            )
        form = [f for f in specs if f.source is ParamSource.FORM]
        if form:
            for spec in form:
                if spec.is_model:
                    self._add_model_fields(spec, "form_field")
                else:
                    argument = ToolArgument("form_field", spec.name)
                    schema = self.registry.schema(field_type(spec))
                    self._add(spec.name, schema, spec.required, argument)
        elif len(specs) == 1 and not getattr(specs[0].marker, "embed", False):
            spec = specs[0]
            schema = self.registry.schema(field_type(spec))
            self._add(spec.name, schema, spec.required, ToolArgument("body", spec.name))
        else:
            for spec in specs:
                argument = ToolArgument("body_field", spec.name)
                self._add(
                    spec.name, self.registry.schema(field_type(spec)), spec.required, argument
                )

    def finish(self, definitions: Mapping[str, Any]) -> Tool:
        schema: dict[str, Any] = {"type": "object", "properties": self.properties}
        if self.required:
            schema["required"] = self.required
        used = _referenced(self.properties, definitions)
        if used:
            schema["$defs"] = {name: definitions[name] for name in sorted(used)}
        output = None
        if self.output is not None:
            output = dict(self.output)
            used = _referenced(output, definitions)
            if used:
                output["$defs"] = {name: definitions[name] for name in sorted(used)}
        return Tool(
            self.name,
            self.description,
            self.method,
            self.path,
            schema,
            self.arguments,
            output,
            self.route,
        )


def _name_problem(name: str, method: str, path: str) -> str:
    """Say which rule of `[a-zA-Z0-9_-]{1,64}` the tool name `name` breaks, and the fix."""
    where = f"tool name {name!r} of {method} {path} must match [a-zA-Z0-9_-]{{1,64}}"
    fix = "on the route (tool= or mcp= option {'name': ...})"
    bad = sorted({char for char in name if not _NAME.match(char)})
    if bad:
        shown = ", ".join(repr(char) for char in bad)
        return (
            f"{where}: it has a character other than letters, digits, _ and - ({shown}); "
            f"set a name without it {fix}"
        )
    if not name:
        return f"{where}: it is empty; set a name {fix}"
    return f"{where}: it is {len(name)} characters long, over 64; set a shorter name {fix}"


def _referenced(schema: Any, definitions: Mapping[str, Any]) -> set[str]:
    """Return the names of the definitions `schema` needs, directly or through others."""
    found: set[str] = set()
    pending = [schema]
    prefix = _DEFS_REF.partition("{")[0]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                name = ref[len(prefix) :]
                if name not in found and name in definitions:
                    found.add(name)
                    pending.append(definitions[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def tools(app: Any) -> list[Tool]:
    """Return the routes of `app` opted in with `tool=...`, one `Tool` per method (cached).

    Raises:
        ConfigurationError: a tool name is invalid or repeated, two arguments of a tool
            share a name, or a tool route takes file uploads.
    """
    from trivium.openapi._config import OpenAPI

    app.build()
    holders = app.plugins_of(OpenAPI)
    cached = holders[0].tools if holders else None
    if cached is not None:
        return list(cached)
    registry = SchemaRegistry(ref_template=_DEFS_REF)
    drafts: list[_Draft] = []
    for route in app.routes:
        if not isinstance(route, Route) or not route.options.get("tool"):
            continue
        methods = [m for m in route.methods if m not in ("HEAD", "OPTIONS")] or route.methods
        drafts.extend(_Draft(route, method, registry) for method in methods)
    definitions = registry.resolve()
    result = [draft.finish(definitions) for draft in drafts]
    seen: set[str] = set()
    for tool in result:
        if tool.name in seen:
            raise ConfigurationError(
                f"two tools are named {tool.name!r}; set tool={{'name': ...}} on one route",
                "tool-name",
            )
        seen.add(tool.name)
    if holders:
        holders[0].tools = tuple(result)
    return result


def route_tools(
    app: Any,
    selected: list[tuple[Route, Any, str | None]],
    *,
    output: bool = False,
) -> list[Tool]:
    """Return the tools of `selected` routes: `(route, settings, default name)` each.

    `settings` is `True` or a mapping overriding `name` and `description`; a route with
    several methods gets one tool per method, the default name suffixed with the method.
    With `output`, each tool carries the JSON Schema of its response model (references
    in its own `$defs`, so recursive models stay finite).

    Raises:
        ConfigurationError: as `tools`.
    """
    app.build()
    registry = SchemaRegistry(ref_template=_DEFS_REF)
    drafts: list[_Draft] = []
    for route, settings, default_name in selected:
        methods = [m for m in route.methods if m not in ("HEAD", "OPTIONS")] or route.methods
        for method in methods:
            name = default_name
            if name is not None and len(methods) > 1:
                name = f"{name}_{method.lower()}"
            draft = _Draft(route, method, registry, settings, name)
            model = route.response_model
            if output and model is not None:
                draft.output = registry.schema(model, "serialization")
            drafts.append(draft)
    definitions = registry.resolve()
    result = [draft.finish(definitions) for draft in drafts]
    seen: set[str] = set()
    for tool in result:
        if tool.name in seen:
            raise ConfigurationError(
                f"two tools are named {tool.name!r}; give one route another name "
                "(mcp={'name': ...} or tool={'name': ...})",
                "tool-name",
            )
        seen.add(tool.name)
    return result


def tool_schemas(app: Any, format: str = "openai") -> list[dict[str, Any]]:
    """Return the tools of `app` as LLM tool definitions in `format`.

    `"openai"`: `{"type": "function", "function": {"name", "description", "parameters"}}`;
    `"anthropic"`: `{"name", "description", "input_schema"}`; `"mcp"`:
    `{"name", "description", "inputSchema"}`.

    Raises:
        ValueError: `format` is not one of those.
    """
    if format not in TOOL_FORMATS:
        raise ValueError(f"unknown tool format {format!r}; use 'openai', 'anthropic' or 'mcp'")
    result: list[dict[str, Any]] = []
    for tool in tools(app):
        if format == "openai":
            function = {
                "name": tool.name,
                "description": tool.description,
                "parameters": copy.deepcopy(tool.input_schema),
            }
            result.append({"type": "function", "function": function})
        elif format == "anthropic":
            result.append(
                {
                    "name": tool.name,
                    "description": tool.description,
                    "input_schema": copy.deepcopy(tool.input_schema),
                }
            )
        else:
            result.append(
                {
                    "name": tool.name,
                    "description": tool.description,
                    "inputSchema": copy.deepcopy(tool.input_schema),
                }
            )
    return result
