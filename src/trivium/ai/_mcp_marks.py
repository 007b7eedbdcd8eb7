"""Marks that make a handler an MCP tool or resource (`@mcp.tool`, `@mcp.resource`)."""

from __future__ import annotations

import inspect
import re
import string
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

from trivium.errors import ConfigurationError

__all__ = ["MARK", "OPTION_KEYS", "Prompt", "mcp", "option_settings", "route_settings"]

MARK = "__trivium_mcp__"
"""The handler attribute holding its MCP settings."""

OPTION_KEYS = frozenset({"name", "description", "resource", "uri", "mime_type", "title"})
"""The keys an `mcp=` route option (or mark) accepts."""

_F = TypeVar("_F", bound=Callable[..., Any])
_PROMPT_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")


def option_settings(value: Any, where: str) -> dict[str, Any] | None:
    """Return the settings of an `mcp=` option (`None` when it opts out).

    Raises:
        ConfigurationError: the value is not `True`, `False` or a mapping of known keys.
    """
    if value is None or value is False:
        return None
    if value is True:
        return {}
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - OPTION_KEYS)
        if unknown:
            raise ConfigurationError(
                f"{where}: unknown mcp option(s) {', '.join(map(repr, unknown))}; "
                f"use {', '.join(sorted(OPTION_KEYS))}",
                "mcp-option",
            )
        return dict(value)
    raise ConfigurationError(
        f"{where}: mcp= takes True, False or a dict of {', '.join(sorted(OPTION_KEYS))}, "
        f"not {value!r}",
        "mcp-option",
    )


def route_settings(option: Any, mark: Any, where: str) -> dict[str, Any] | None:
    """Return a route's MCP settings: its `mcp=` option combined with its handler's mark.

    The option may come from the route or from its router (`Router(mcp=True)`); the
    handler's own `@mcp.tool(...)`/`@mcp.resource(...)` settings add to it. `mcp=False`
    keeps the route out whatever the handler says.

    Raises:
        ConfigurationError: a bad option or mark, or both setting one key to two values.
    """
    if option is False:
        return None
    own = option_settings(option, where)
    marked = option_settings(mark, f"{where} (the handler's @mcp mark)")
    if own is None or marked is None:
        return marked if own is None else own
    clashes = sorted(key for key in own.keys() & marked.keys() if own[key] != marked[key])
    if clashes:
        raise ConfigurationError(
            f"{where}: the mcp= option and the handler's @mcp mark both set "
            f"{', '.join(map(repr, clashes))}, to different values; set each in one place",
            "mcp-option",
        )
    return {**own, **marked}


class _Marks:
    """`@mcp.tool` and `@mcp.resource`: mark a route handler for the MCP server."""

    def tool(
        self,
        fn: _F | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        title: str | None = None,
    ) -> Any:
        """Offer the route of the decorated handler as an MCP tool."""
        settings = {
            key: value
            for key, value in (("name", name), ("description", description), ("title", title))
            if value is not None
        }
        return self._mark(fn, settings)

    def resource(
        self,
        fn: _F | None = None,
        *,
        uri: str | None = None,
        name: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
    ) -> Any:
        """Offer the GET route of the decorated handler as an MCP resource."""
        given = {"uri": uri, "name": name, "description": description, "mime_type": mime_type}
        settings: dict[str, Any] = {
            "resource": True,
            **{key: value for key, value in given.items() if value is not None},
        }
        return self._mark(fn, settings)

    @staticmethod
    def _mark(fn: Any, settings: dict[str, Any]) -> Any:
        def apply(target: _F) -> _F:
            setattr(target, MARK, settings)
            return target

        return apply(fn) if fn is not None else apply


mcp = _Marks()
"""Marks for handlers: `@mcp.tool`, `@mcp.tool(name=...)`, `@mcp.resource(...)`."""


class Prompt:
    """A prompt template the MCP server offers (`prompts/list`, `prompts/get`).

    `template` is a `str.format` string whose fields are the prompt's (required)
    arguments, or a function (sync or async) of keyword arguments returning the text.
    """

    __slots__ = ("arguments", "description", "name", "template")

    def __init__(
        self,
        name: str,
        template: str | Callable[..., str | Awaitable[str]],
        *,
        description: str | None = None,
    ) -> None:
        if not _PROMPT_NAME.match(name):
            raise ConfigurationError(
                f"prompt name {name!r} must match [a-zA-Z0-9_.-]{{1,64}}", "mcp-prompt"
            )
        self.name = name
        self.template = template
        self.arguments: dict[str, bool] = {}
        """Argument names, each with whether it is required."""
        if isinstance(template, str):
            for _, field, _, _ in string.Formatter().parse(template):
                if field is not None:
                    if not field.isidentifier():
                        raise ConfigurationError(
                            f"prompt {name!r}: template field {{{field}}} must be a plain name",
                            "mcp-prompt",
                        )
                    self.arguments[field] = True
            self.description = description
        elif callable(template):
            for parameter in inspect.signature(template).parameters.values():
                self.arguments[parameter.name] = parameter.default is inspect.Parameter.empty
            self.description = description or inspect.getdoc(template)
        else:
            raise ConfigurationError(
                f"prompt {name!r}: template must be a str or a function", "mcp-prompt"
            )

    def check(self, arguments: Mapping[str, str]) -> None:
        """Refuse `arguments` that lack a required argument or name an unknown one.

        Raises:
            ValueError: says which arguments are missing or unknown.
        """
        missing = [
            name for name, required in self.arguments.items() if required and name not in arguments
        ]
        if missing:
            raise ValueError(f"prompt {self.name!r} needs argument(s) {', '.join(missing)}")
        unknown = [name for name in arguments if name not in self.arguments]
        if unknown:
            raise ValueError(f"prompt {self.name!r} takes no argument(s) {', '.join(unknown)}")

    async def render(self, arguments: Mapping[str, str]) -> str:
        """Return the prompt text for `arguments`.

        Raises:
            ValueError: a required argument is missing or an unknown one is given (see
                `check`); the template function's own errors propagate.
        """
        self.check(arguments)
        if isinstance(self.template, str):
            return self.template.format(**arguments)
        result = self.template(**arguments)
        if inspect.isawaitable(result):
            result = await result
        return str(result)
