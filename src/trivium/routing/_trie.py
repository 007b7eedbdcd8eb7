"""Path templates and the compiled route trie.

A template such as `/users/{user_id:int}/files/{rest:path}` is split into segments. All
routes go into one trie keyed by segment: static segments are dict look-ups, parameter
segments try their converter, a `path` parameter takes the rest. Paths without
parameters skip the trie through a single dict. Matching never scans the route list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import NoReturn
from typing import TypeVar
from urllib.parse import quote

from trivium.errors import ConfigurationError
from trivium.http._paths import PCHAR

if TYPE_CHECKING:
    from uuid import UUID

__all__ = ["CONVERTERS", "Converter", "PathTemplate", "Trie"]

T = TypeVar("T")


class Converter:
    """Turn one path segment into a value, or refuse it (the route then does not match)."""

    __slots__ = ("name", "pattern", "to_python", "to_string")

    def __init__(
        self,
        name: str,
        pattern: str,
        to_python: Callable[[str], Any],
        to_string: Callable[[Any], str] = str,
    ) -> None:
        self.name = name
        self.pattern = pattern
        self.to_python = to_python
        self.to_string = to_string


def _to_int(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(text)
    return int(text)


def _to_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        raise ValueError(text)
    return value


def _to_str(text: str) -> str:
    if not text:
        raise ValueError(text)
    return text


def _to_uuid(text: str) -> UUID:
    # `uuid` loads `platform` and a C extension: only apps with UUID paths pay for it.
    from uuid import UUID

    return UUID(text)


CONVERTERS: dict[str, Converter] = {
    "str": Converter("str", "[^/]+", _to_str),
    "int": Converter("int", "[0-9]+", _to_int),
    "float": Converter("float", r"[0-9]+(?:\.[0-9]+)?", _to_float),
    "uuid": Converter("uuid", "[0-9a-fA-F-]{32,36}", _to_uuid),
    "path": Converter("path", ".*", str),
}
# Specific converters are tried before the catch-all `str`.
_PRIORITY = {"int": 0, "uuid": 1, "float": 2, "str": 9}

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?}")

STATIC = 0
PARAM = 1
REGEX = 2
REST = 3


class PathTemplate:
    """A parsed route path: its segments, parameter names and how to build URLs from it."""

    __slots__ = ("converters", "names", "path", "segments")

    def __init__(self, path: str) -> None:
        if not path.startswith("/"):
            raise ConfigurationError(f"route path {path!r} must start with '/'", "path-format")
        self.path = path
        self.names: list[str] = []
        self.converters: dict[str, Converter] = {}
        self.segments: list[tuple[int, Any]] = []
        parts = path[1:].split("/")
        for index, part in enumerate(parts):
            self.segments.append(self._segment(part, last=index == len(parts) - 1))

    def _converter(self, name: str, kind: str | None) -> Converter:
        if name in self.converters:
            raise ConfigurationError(
                f"path {self.path!r} repeats parameter {name!r}", "path-format"
            )
        try:
            converter = CONVERTERS[kind or "str"]
        except KeyError:
            raise ConfigurationError(
                f"unknown converter {kind!r} in {self.path!r}; use one of {sorted(CONVERTERS)}",
                "path-converter",
            ) from None
        self.names.append(name)
        self.converters[name] = converter
        return converter

    def _segment(self, part: str, last: bool) -> tuple[int, Any]:
        matches = list(_PARAM.finditer(part))
        if not matches:
            if "{" in part or "}" in part:
                raise ConfigurationError(f"malformed parameter in {self.path!r}", "path-format")
            return (STATIC, part)
        if len(matches) == 1 and matches[0].group(0) == part:
            name, kind = matches[0].groups()
            converter = self._converter(name, kind)
            if converter.name == "path":
                if not last:
                    raise ConfigurationError(
                        f"{{{name}:path}} must be the last segment of {self.path!r}", "path-format"
                    )
                return (REST, name)
            return (PARAM, converter)
        regex, position = "", 0
        converters = []
        for match in matches:
            regex += re.escape(part[position : match.start()])
            name, kind = match.groups()
            converter = self._converter(name, kind)
            if converter.name == "path":
                raise ConfigurationError(f"{{{name}:path}} must be a whole segment", "path-format")
            regex += f"({converter.pattern if converter.name != 'str' else '[^/]+?'})"
            converters.append(converter)
            position = match.end()
        regex += re.escape(part[position:])
        return (REGEX, (re.compile(regex), tuple(converters)))

    @property
    def is_static(self) -> bool:
        """Whether the path has no parameters."""
        return not self.names

    def format(self, params: dict[str, Any]) -> str:
        """Build the path with `params` filled in, each value percent-encoded.

        A value comes back to the same route as the same value: `?`, `#`, `%`, spaces
        and non-ASCII letters are encoded.

        Raises:
            KeyError: a parameter is missing.
            NoMatchFound: a value the route can't take back: empty, `.`, `..`, or with a
                `/` outside a `path` parameter (servers decode `%2F` before routing).
        """

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            converter = self.converters[name]
            text = converter.to_string(params[name])
            if converter.name == "path":
                segments = text.split("/")
                if any(segment in (".", "..") for segment in segments):
                    _unfit(self.path, name, text)
                return "/".join(quote(segment, safe=PCHAR) for segment in segments)
            if text in ("", ".", "..") or "/" in text:
                _unfit(self.path, name, text)
            return quote(text, safe=PCHAR)

        return _PARAM.sub(replace, self.path)


def _unfit(path: str, name: str, text: str) -> NoReturn:
    from trivium.routing._dispatch import NoMatchFound

    raise NoMatchFound(
        f"{name}={text!r} can't be a segment of {path!r}: a URL would not bring it back"
    )


class _Node(Generic[T]):
    __slots__ = ("entry", "params", "regexes", "rest", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node[T]] = {}
        self.params: list[tuple[Converter, _Node[T]]] = []
        self.regexes: list[tuple[re.Pattern[str], tuple[Converter, ...], _Node[T]]] = []
        self.rest: T | None = None
        self.entry: T | None = None


class Trie(Generic[T]):
    """Map paths to entries; `match` returns the entry and the converted parameter values.

    Parameter values come back as a list in path order, regex segments contributing one
    value per parameter; the entry knows the names.
    """

    __slots__ = ("_root", "_static")

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()
        self._static: dict[str, T] = {}

    def insert(self, template: PathTemplate, factory: Callable[[], T]) -> T:
        """Return the entry for `template`, creating it with `factory` when new."""
        if template.is_static:
            entry = self._static.get(template.path)
            if entry is None:
                entry = self._static[template.path] = factory()
            return entry
        node = self._root
        for kind, data in template.segments:
            if kind == STATIC:
                node = node.static.setdefault(data, _Node())
            elif kind == PARAM:
                node = self._param_child(node, data)
            elif kind == REGEX:
                node = self._regex_child(node, data)
            else:
                if node.rest is None:
                    node.rest = factory()
                return node.rest
        if node.entry is None:
            node.entry = factory()
        return node.entry

    @staticmethod
    def _param_child(node: _Node[T], converter: Converter) -> _Node[T]:
        for existing, child in node.params:
            if existing is converter:
                return child
        child = _Node[T]()
        node.params.append((converter, child))
        node.params.sort(key=lambda item: _PRIORITY.get(item[0].name, 5))
        return child

    @staticmethod
    def _regex_child(
        node: _Node[T], data: tuple[re.Pattern[str], tuple[Converter, ...]]
    ) -> _Node[T]:
        regex, converters = data
        for existing, _, child in node.regexes:
            if existing.pattern == regex.pattern:
                return child
        child = _Node[T]()
        node.regexes.append((regex, converters, child))
        return child

    def match(self, path: str) -> tuple[T, list[Any]] | None:
        """Find the entry for `path`, or `None`."""
        entry = self._static.get(path)
        if entry is not None:
            return entry, []
        if not path.startswith("/"):
            return None
        values: list[Any] = []
        found = _walk(self._root, path[1:].split("/"), 0, values)
        if found is None:
            return None
        return found, values


def _walk(node: _Node[T], parts: list[str], index: int, values: list[Any]) -> T | None:
    if index == len(parts):
        return node.entry
    part = parts[index]
    child = node.static.get(part)
    if child is not None:
        found = _walk(child, parts, index + 1, values)
        if found is not None:
            return found
    for converter, child in node.params:
        try:
            value = converter.to_python(part)
        except ValueError:
            continue
        values.append(value)
        found = _walk(child, parts, index + 1, values)
        if found is not None:
            return found
        values.pop()
    for regex, converters, child in node.regexes:
        match = regex.fullmatch(part)
        if match is None:
            continue
        count = len(values)
        try:
            values.extend(
                c.to_python(text) for c, text in zip(converters, match.groups(), strict=True)
            )
        except ValueError:
            del values[count:]
            continue
        found = _walk(child, parts, index + 1, values)
        if found is not None:
            return found
        del values[count:]
    if node.rest is not None:
        values.append("/".join(parts[index:]))
        return node.rest
    return None
