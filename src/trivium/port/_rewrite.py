"""Rewrite a module's FastAPI and Starlette imports to trivium.compat with libcst.

libcst keeps every byte it is not told to change, so only the module path of an import
moves: comments, parentheses, line breaks and the names imported stay as they were.

| before                               | after                                          |
|--------------------------------------|------------------------------------------------|
| `from fastapi import Depends`        | `from trivium.compat.fastapi import Depends`   |
| `import fastapi`                     | `from trivium.compat import fastapi`           |
| `import starlette.status as status`  | `import trivium.compat.starlette.status as status` |
| `import fastapi.security`            | `import trivium.compat.fastapi.security` and `from trivium.compat import fastapi` |

`import fastapi` keeps the name `fastapi` bound, so `fastapi.Depends` further down the
module goes on working without touching it. An import whose module or names trivium.compat
lacks is left as it is and reported, as are third-party FastAPI plugins.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import cast

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper
from libcst.metadata import PositionProvider

from trivium.port._modules import COMPAT_PREFIX
from trivium.port._modules import SOURCES
from trivium.port._modules import compat_module
from trivium.port._modules import compat_name
from trivium.port._modules import missing_module_reason
from trivium.port._modules import plugin_reason

__all__ = ["PortResult", "Problem", "port_source"]


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """An import the port command left unchanged, and why."""

    path: str
    """The file, as given to `port_source`."""
    line: int
    """1-based line of the import statement."""
    module: str
    """The imported module path (`fastapi.dependencies.utils`, `fastapi_users`)."""
    reason: str
    """Why it was not converted and what to do about it."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclasses.dataclass(frozen=True, slots=True)
class PortResult:
    """The outcome of porting one module's source."""

    source: str
    """The rewritten source (the input unchanged when nothing was converted)."""
    changed: bool
    """Whether `source` differs from the input."""
    converted: int
    """How many imported modules were pointed at trivium.compat."""
    problems: tuple[Problem, ...]
    """Imports left unchanged (or a syntax error), in source order."""


def port_source(
    source: str, path: str = "<string>", local: frozenset[str] = frozenset()
) -> PortResult:
    """Rewrite the fastapi/starlette imports of one module's `source` to trivium.compat.

    Args:
        source: The module's text.
        path: Named in problems (`path:line: reason`).
        local: Top-level package names of the project itself, never taken for plugins.

    Returns:
        The rewritten text, whether it changed, and what was left unconverted and why.
        A module that does not parse is returned unchanged with one problem naming the
        syntax error.
    """
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        problem = Problem(path, exc.raw_line, "", f"could not parse: {exc.message}")
        return PortResult(source, False, 0, (problem,))
    rewriter = _Rewriter(local, strings=_QUOTED_PATH.search(source) is not None)
    code = module.visit(rewriter).code
    problems: tuple[Problem, ...] = ()
    if rewriter.problems:
        # Positions cost a second walk over the tree: only for modules with something to say.
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        problems = tuple(
            Problem(path, positions[node].start.line, name, reason)
            for node, name, reason in rewriter.problems
        )
    return PortResult(code, code != source, rewriter.converted, problems)


def _dotted(name: str) -> cst.Attribute | cst.Name:
    return cast("cst.Attribute | cst.Name", cst.parse_expression(name))


def _last_without_comma(aliases: Sequence[cst.ImportAlias]) -> list[cst.ImportAlias]:
    kept = list(aliases)
    if kept:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return kept


# A string naming a FastAPI/Starlette object by its dotted path, alone or as the category
# of a warnings filter: `mock.patch("fastapi.routing.x")`,
# `pytest.mark.filterwarnings("ignore::fastapi.exceptions.FastAPIDeprecationWarning")`.
_PATH_STRING = re.compile(
    r"(?P<head>(?:[a-z]*:[^:]*:)?)(?P<path>(?:fastapi|starlette)(?:\.[A-Za-z_]\w*)+)(?P<tail>(?::.*)?)",
    re.DOTALL,
)
_QUOTED_PATH = re.compile(r"""['"](?:[a-z]*:[^:'"]*:)?(?:fastapi|starlette)\.""")


def _compat_path(path: str) -> str | None:
    """Return the trivium.compat path of a dotted module or module attribute path, if it exists."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        module = compat_module(".".join(parts[:cut]))
        if module is None:
            continue
        target: object = module
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return None
            target = getattr(target, attribute)
        return compat_name(path)
    return None


class _Rewriter(cst.CSTTransformer):
    def __init__(self, local: frozenset[str], *, strings: bool) -> None:
        super().__init__()
        self.local = local
        self.strings = strings
        self.converted = 0
        self.problems: list[tuple[cst.CSTNode, str, str]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        # Imports are statements, so expressions are walked only when a string in the
        # module may name a FastAPI object (most modules have none).
        return self.strings or not isinstance(node, cst.BaseExpression)

    def leave_SimpleString(  # noqa: N802 - libcst's visitor naming
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.SimpleString:
        value = updated_node.evaluated_value
        if not isinstance(value, str):
            return updated_node
        match = _PATH_STRING.fullmatch(value)
        if match is None or "\\" in updated_node.value:
            return updated_node
        target = _compat_path(match["path"])
        if target is None:
            return updated_node
        quoted = updated_node.value
        body = quoted[len(updated_node.prefix) + len(updated_node.quote) : -len(updated_node.quote)]
        new_body = body.replace(match["path"], target, 1)
        self.converted += 1
        return updated_node.with_changes(
            value=f"{updated_node.prefix}{updated_node.quote}{new_body}{updated_node.quote}"
        )

    def _statements(
        self,
        original: Sequence[cst.BaseSmallStatement],
        updated: Sequence[cst.BaseSmallStatement],
    ) -> list[cst.BaseSmallStatement]:
        body: list[cst.BaseSmallStatement] = []
        for before, after in zip(original, updated, strict=True):
            if isinstance(after, cst.Import):
                body.extend(self._import(cast("cst.Import", before), after))
            elif isinstance(after, cst.ImportFrom):
                body.append(self._import_from(cast("cst.ImportFrom", before), after))
            else:
                body.append(after)
        return body

    def leave_SimpleStatementLine(  # noqa: N802 - libcst's visitor naming
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine]:
        body = self._statements(original_node.body, updated_node.body)
        if len(body) == len(updated_node.body) or len(updated_node.body) > 1:
            return updated_node.with_changes(body=body)
        # One `import fastapi.security` became two statements: one line each.
        first = updated_node.with_changes(body=[body[0]])
        rest = [cst.SimpleStatementLine(body=[statement]) for statement in body[1:]]
        return cst.FlattenSentinel([first, *rest])

    def leave_SimpleStatementSuite(  # noqa: N802 - libcst's visitor naming
        self, original_node: cst.SimpleStatementSuite, updated_node: cst.SimpleStatementSuite
    ) -> cst.SimpleStatementSuite:
        # `if x: import fastapi` stays on its line, statements joined by semicolons.
        return updated_node.with_changes(
            body=self._statements(original_node.body, updated_node.body)
        )

    def _report(self, node: cst.CSTNode, module: str, reason: str) -> None:
        self.problems.append((node, module, reason))

    def _import(self, original: cst.Import, node: cst.Import) -> list[cst.BaseSmallStatement]:
        kept: list[cst.ImportAlias] = []
        added: list[cst.BaseSmallStatement] = []
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            top = name.partition(".")[0]
            if top not in SOURCES:
                self._check_plugin(original, name)
                kept.append(alias)
            elif compat_module(name) is None:
                self._report(original, name, missing_module_reason(name))
                kept.append(alias)
            else:
                self.converted += 1
                added.extend(self._converted_import(alias, name, top))
        if not added:
            return [node]
        rest = [node.with_changes(names=_last_without_comma(kept))] if kept else []
        return [*rest, *added]

    @staticmethod
    def _converted_import(
        alias: cst.ImportAlias, name: str, top: str
    ) -> list[cst.BaseSmallStatement]:
        target = _dotted(compat_name(name))
        if alias.asname is not None:
            return [
                cst.Import(names=[alias.with_changes(name=target, comma=cst.MaybeSentinel.DEFAULT)])
            ]
        bind_top = cst.ImportFrom(
            module=_dotted(COMPAT_PREFIX), names=[cst.ImportAlias(name=cst.Name(top))]
        )
        if name == top:
            return [bind_top]
        # `import fastapi.security` binds `fastapi` with `.security` loaded: do both.
        return [cst.Import(names=[cst.ImportAlias(name=target)]), bind_top]

    def _import_from(self, original: cst.ImportFrom, node: cst.ImportFrom) -> cst.ImportFrom:
        if node.relative or node.module is None:
            return node
        name = get_full_name_for_node(node.module) or ""
        if name.partition(".")[0] not in SOURCES:
            self._check_plugin(original, name)
            return node
        module = compat_module(name)
        if module is None:
            self._report(original, name, missing_module_reason(name))
            return node
        if not isinstance(node.names, cst.ImportStar):
            missing = [
                imported
                for alias in node.names
                if (imported := get_full_name_for_node(alias.name) or "")
                and not hasattr(module, imported)
                and compat_module(f"{name}.{imported}") is None
            ]
            if missing:
                names = ", ".join(missing)
                reason = f"{compat_name(name)} has no {names} (the import is left on {name})"
                self._report(original, name, reason)
                return node
        self.converted += 1
        return node.with_changes(module=_dotted(compat_name(name)))

    def _check_plugin(self, node: cst.CSTNode, name: str) -> None:
        reason = plugin_reason(name, self.local)
        if reason is not None:
            self._report(node, name, reason)
