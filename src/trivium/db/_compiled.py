"""A statement compiled once for running straight on the driver (`_direct`, `_prepared`).

Both direct paths turn a SQLAlchemy statement into what asyncpg takes: the SQL text
with positional placeholders, the bound parameters' names in placeholder order, and
each one's bind processor from the dialect (or `None`), which the caller applies to a
value as SQLAlchemy would before handing it to the driver. A parameter that carries its
own value (a literal in the statement, `User.active == True`, `bindparam("n", 5)`) keeps
it, used when the caller gives none, as Core does.
"""

from __future__ import annotations

from typing import Any
from typing import NamedTuple

__all__ = ["DriverStatement", "for_driver"]


class DriverStatement(NamedTuple):
    """A statement as the driver runs it."""

    sql: str
    """The SQL text, placeholders `$1`, `$2`... in `names` order."""
    names: tuple[str, ...]
    """The bound parameters' names, in placeholder order."""
    binds: tuple[Any, ...]
    """Per parameter: the dialect's bind processor, or `None`."""
    own: tuple[Any, ...]
    """Per parameter: the `BindParameter` when it carries its own value, else `None`."""


def for_driver(statement: Any, dialect: Any) -> DriverStatement | None:
    """Compile `statement` for `dialect`; `None` when its parameters aren't positional."""
    compiled: Any = statement.compile(dialect=dialect)
    if compiled.positiontup is None:
        return None
    names = tuple(compiled.positiontup)
    params = [compiled.binds[name] for name in names]
    binds = tuple(param.type._cached_bind_processor(dialect) for param in params)
    own = tuple(None if param.required else param for param in params)
    return DriverStatement(str(compiled), names, binds, own)
