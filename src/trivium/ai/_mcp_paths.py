"""Tool arguments in a request path, and the guard that keeps a call on its own route.

A tool call (or a resource read) becomes an in-memory request whose path is the route's
template with the argument values in it, percent-encoded as an HTTP client sends them:
every character outside RFC 3986's unreserved set, `/` included. The router matches the
decoded path, as every server hands it over, so a `/` in a one-segment parameter would
split the segment and lead to another route (`{"name": "x/secret"}` on `/public/{name}`
would reach `/public/{name}/secret`): such values, and values the parameter's converter
refuses, are refused before the call. `{name:path}` parameters take slashes.

A value that fits can still make a path that another route answers first (a static
`/items/special` beats `/items/{name}` for `name="special"`). The MCP plugin gives each
route that may match a path of a tool's route (and answers one of its methods) a
`TargetGuard` step, which refuses a tool call's request aimed at another route. Other
routes pay nothing.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import quote

from trivium.errors import HTTPException
from trivium.plugins import RequestStep
from trivium.routing import CONVERTERS

if TYPE_CHECKING:
    from trivium.http import HTTPConnection

__all__ = ["TARGET_KEY", "Segment", "TargetGuard", "may_overlap", "request_path", "segments"]

TARGET_KEY = "trivium.mcp.target"
"""Scope key of a tool call's request: the route the call is meant for."""

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?}")
# Characters a route template's static text keeps as they are in a request target.
_STATIC_SAFE = "/:@!$&'()*+,;="

Segment = tuple[str, str]
"""One segment of a path template: `("static", text)`, `("param", converter name)`,
`("rest", name)` for a `{name:path}` parameter, or `("mixed", text)`."""


def request_path(path: str, values: Mapping[str, str]) -> str:
    """Return the route path template `path` with `values` in it, percent-encoded.

    Raises:
        ValueError: a value its parameter cannot take (a `/` in a one-segment
            parameter, an empty value, one its converter refuses); the message names it.
    """
    pieces: list[str] = []
    position = 0
    for match in _PARAM.finditer(path):
        pieces.append(quote(path[position : match.start()], safe=_STATIC_SAFE))
        name, kind = match.groups()
        pieces.append(_encoded(name, kind or "str", values[name]))
        position = match.end()
    pieces.append(quote(path[position:], safe=_STATIC_SAFE))
    return "".join(pieces)


def _encoded(name: str, kind: str, value: str) -> str:
    if kind == "path":
        return quote(value, safe="/")
    if "/" in value:
        raise ValueError(
            f"the value of {name!r} cannot contain '/': the route takes one path segment "
            "there (a {" + name + ":path} parameter would take slashes)"
        )
    converter = CONVERTERS.get(kind)
    if converter is not None:
        try:
            valid = re.fullmatch(converter.pattern, value) is not None
            converter.to_python(value)
        except ValueError:
            valid = False
        if not valid:
            raise ValueError(f"{value!r} is not a valid {kind} value for {name!r}")
    return quote(value, safe="")


def segments(path: str) -> tuple[Segment, ...]:
    """Split a route path template into its segments (see `Segment`)."""
    found: list[Segment] = []
    for part in path[1:].split("/"):
        match = _PARAM.fullmatch(part)
        if "{" not in part:
            found.append(("static", part))
        elif match is None:
            found.append(("mixed", part))
        elif match.group(2) == "path":
            found.append(("rest", match.group(1)))
        else:
            found.append(("param", match.group(2) or "str"))
    return tuple(found)


def may_overlap(first: Sequence[Segment], second: Sequence[Segment]) -> bool:
    """Return whether some request path may match both templates (when in doubt, yes)."""
    for one, other in zip(first, second, strict=False):
        if "rest" in (one[0], other[0]):
            return True
        if one[0] == "static" and other[0] == "static":
            if one[1] != other[1]:
                return False
        elif one[0] == "static" and other[0] == "param":
            if not _fits(one[1], other[1]):
                return False
        elif one[0] == "param" and other[0] == "static" and not _fits(other[1], one[1]):
            return False
    return len(first) == len(second)


def _fits(text: str, kind: str) -> bool:
    converter = CONVERTERS.get(kind)
    if converter is None:
        return True
    try:
        converter.to_python(text)
    except ValueError:
        return False
    return re.fullmatch(converter.pattern, text) is not None


class TargetGuard(RequestStep):
    """Refuse a tool call's request that the router gave to another route than the tool's."""

    __slots__ = ("endpoint", "path")
    order = 0  # before any other step: nothing of this route runs for such a request

    def __init__(self, path: str, endpoint: Callable[..., Any] | None) -> None:
        self.path = path
        self.endpoint = endpoint

    def before(self, connection: HTTPConnection) -> Awaitable[None] | None:
        """Refuse (400) when the request is a tool call aimed at another route."""
        target = connection.scope.get(TARGET_KEY)
        if target is not None and (
            target.endpoint is not self.endpoint or target.path != self.path
        ):
            raise HTTPException(
                400,
                "these arguments make the path of another route, which this tool cannot "
                "call; change the path arguments",
            )
        return None
