"""A statement compiled once for running straight on the driver (`_direct`, `_prepared`).

Both direct paths turn a SQLAlchemy statement into what asyncpg takes: the SQL text
with positional placeholders, the bound parameters' names in placeholder order, and
each one's bind processor from the dialect (or `None`), which the caller applies to a
value as SQLAlchemy would before handing it to the driver.
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


def for_driver(statement: Any, dialect: Any) -> DriverStatement | None:
    """Compile `statement` for `dialect`; `None` when its parameters aren't positional."""
    compiled: Any = statement.compile(dialect=dialect)
    if compiled.positiontup is None:
        return None
    names = tuple(compiled.positiontup)
    binds = tuple(compiled.binds[name].type._cached_bind_processor(dialect) for name in names)
    return DriverStatement(str(compiled), names, binds)
