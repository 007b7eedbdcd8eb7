"""Tool arguments to the route's request: checked against the input schema, then encoded.

Path, query and form arguments travel as text, so their JSON type is checked here
against the tool's input schema (a list for a one-value parameter, an object, a boolean
or a number for a string one are refused, not flattened into text); a string for a
number or a boolean is left for the route to convert, as from a query string. JSON body
arguments are validated by the route itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlencode

from trivium.ai._mcp_paths import request_path

if TYPE_CHECKING:
    from trivium.ai._mcp import McpTool

__all__ = ["tool_request"]

_DEFS = "#/$defs/"
_ARTICLES = {"array": "an array", "object": "an object", "integer": "an integer", "null": "null"}
_GIVEN = {
    "array": "an array",
    "object": "an object",
    "integer": "a number",
    "number": "a number",
    "boolean": "a boolean",
    "string": "a string",
}


def tool_request(
    entry: McpTool, arguments: Mapping[str, Any]
) -> tuple[str, str, list[tuple[str, str]], bytes | None, str | None]:
    """Turn tool arguments into the route's request (method, encoded path, query, body).

    A `null` argument is left out of the request (the parameter's default applies),
    except for a JSON body field whose schema accepts `null`.

    Raises:
        ValueError: an unknown argument, a missing path argument, a path, query or form
            argument of a JSON type its schema refuses, or a path value the route's
            parameter cannot take.
    """
    tool = entry.tool
    query: list[tuple[str, str]] = []
    body: Any = None
    fields: dict[str, Any] = {}
    form: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    _refuse_unknown(tool.name, arguments, tool.arguments)
    properties = tool.input_schema.get("properties", {})
    for name, where in tool.arguments.items():
        value = arguments.get(name)
        if where.location == "path":
            if value is None:
                raise ValueError(f"tool {tool.name!r} needs the argument {name!r}")
            _check(tool.name, name, value, properties.get(name), tool.input_schema)
            values[where.name] = _scalar(value)
        elif name not in arguments:
            continue
        elif where.location == "body":
            body = value
        elif where.location == "body_field":
            if value is not None or _nullable(properties[name]):
                fields[where.name] = value
        elif value is not None:
            _check(tool.name, name, value, properties.get(name), tool.input_schema)
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


def _refuse_unknown(tool: str, arguments: Mapping[str, Any], known: Mapping[str, Any]) -> None:
    unknown = sorted(set(arguments) - set(known))
    if unknown:
        raise ValueError(
            f"tool {tool!r} takes no argument(s) {', '.join(unknown)}; "
            f"it takes {', '.join(known) or 'none'}"
        )


def _check(tool: str, name: str, value: Any, schema: Any, root: Mapping[str, Any]) -> None:
    """Refuse a value (or an array item) whose JSON type the parameter's schema refuses.

    Raises:
        ValueError: says which argument, the types it takes and the type given.
    """
    accepted = _types(schema, root)
    given = _json_type(value)
    if accepted is None or _fits(given, accepted):
        if given == "array" and isinstance(schema, Mapping):
            items = _item_schema(schema, root)
            for item in value:
                if item is not None:
                    _check(tool, f"{name}[]", item, items, root)
        return
    takes = " or ".join(_ARTICLES.get(kind, f"a {kind}") for kind in _sorted(accepted))
    raise ValueError(f"tool {tool!r}: argument {name!r} takes {takes}, not {_GIVEN[given]}")


def _fits(given: str, accepted: set[str]) -> bool:
    if given in accepted:
        return True
    if given == "integer":
        return "number" in accepted
    # text travels as text: the route converts "3" or "true" as from a query string
    return given == "string" and bool(accepted & {"integer", "number", "boolean"})


def _types(schema: Any, root: Mapping[str, Any], depth: int = 0) -> set[str] | None:
    """The JSON types `schema` accepts; `None` when it does not say (anything goes)."""
    if not isinstance(schema, Mapping) or depth > 8:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith(_DEFS):
            return None
        return _types(root.get("$defs", {}).get(ref[len(_DEFS) :]), root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    options = [*schema.get("anyOf", ()), *schema.get("oneOf", ())]
    if not options:
        return None
    found: set[str] = set()
    for option in options:
        types = _types(option, root, depth + 1)
        if types is None:
            return None
        found |= types
    return found


def _item_schema(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """The item schema of the array branch of `schema` (`None` when there is none)."""
    if "items" in schema:
        return schema["items"]
    for option in [*schema.get("anyOf", ()), *schema.get("oneOf", ())]:
        if isinstance(option, Mapping) and _types(option, root) == {"array"}:
            return option.get("items")
    return None


def _sorted(kinds: set[str]) -> list[str]:
    # `null` last: "a string or null"
    return sorted(kinds, key=lambda kind: (kind == "null", kind))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        # As JSON Schema has it: 3.0 is an integer (clients and models often send one).
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


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
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # "3", which an int parameter reads as 3
    return json.dumps(value)
