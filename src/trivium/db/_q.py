"""Turning `field__lookup=value` keywords and `Q` objects into SQL conditions.

A key is a path: relationships first (`author__country__name`), then a column, then
transforms (`created_at__year`) and finally a lookup (`gte`). Conditions that cross a
relationship become `EXISTS` subqueries (`has()` for a many-to-one, `any()` for a
collection), so rows are never duplicated by a join. As in Django, the conditions on one
relationship given in the same `filter()` call (or the same `Q`) must hold for the same
related row: `filter(books__title="x", books__pages__gt=100)` is one book matching both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import not_
from sqlalchemy import or_
from sqlalchemy import true
from sqlalchemy.orm import aliased

from trivium.db._lookups import LOOKUPS
from trivium.db._lookups import TRANSFORM_LOOKUPS
from trivium.db._lookups import TRANSFORMS
from trivium.db._lookups import QueryError

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Mapper

__all__ = ["Q", "conditions", "field", "negate", "value_columns"]

_RELATION_LOOKUPS = frozenset({"exact", "isnull"})

_Item = tuple[list[str], Any, str]


def _names(model: type[Any]) -> list[str]:
    mapper: Mapper[Any] = model.__mapper__
    return sorted([*mapper.column_attrs.keys(), *mapper.relationships.keys()])


def field(model: type[Any], name: str) -> tuple[Any, bool]:
    """Return the mapped attribute `name` of `model` and whether it is a relationship."""
    mapper: Mapper[Any] = model.__mapper__
    if name in mapper.column_attrs:
        return getattr(model, name), False
    if name in mapper.relationships:
        return getattr(model, name), True
    raise QueryError(f"{model.__name__} has no field {name!r}; fields: {', '.join(_names(model))}")


def _is_field(model: type[Any], name: str) -> bool:
    mapper: Mapper[Any] = model.__mapper__
    return name in mapper.column_attrs or name in mapper.relationships


def _column_condition(model: type[Any], parts: list[str], value: Any, key: str) -> Any:
    name, rest = parts[0], parts[1:]
    column, _ = field(model, name)
    transformed = bool(rest) and rest[0] in TRANSFORMS
    if transformed:
        transform = rest.pop(0)
        sql_type = getattr(column.type, "impl_instance", column.type)
        if not isinstance(sql_type, Date | DateTime):
            raise QueryError(
                f"the {transform!r} transform in {key!r} needs a date or time column; "
                f"{model.__name__}.{name} is {column.type}"
            )
        column = TRANSFORMS[transform](column)
    lookup = rest[0] if rest else "exact"
    allowed = TRANSFORM_LOOKUPS if transformed else LOOKUPS.keys()
    if len(rest) > 1 or lookup not in allowed:
        extra = "" if transformed else f"; transforms: {', '.join(sorted(TRANSFORMS))}"
        raise QueryError(
            f"unknown lookup {'__'.join(rest)!r} in {key!r} on {model.__name__}.{name}; "
            f"use one of: {', '.join(sorted(allowed))}{extra}"
        )
    return LOOKUPS[lookup](column, value)


def _relation_condition(model: type[Any], name: str, rest: list[str], value: Any, key: str) -> Any:
    lookup = rest[0] if rest else "exact"
    if len(rest) > 1 or lookup not in _RELATION_LOOKUPS:
        target = model.__mapper__.relationships[name].mapper.class_
        raise QueryError(
            f"unknown lookup {'__'.join(rest)!r} in {key!r} on {model.__name__}.{name}; "
            f"use one of: {', '.join(sorted(_RELATION_LOOKUPS))}, or a field of "
            f"{target.__name__}: {', '.join(_names(target))}"
        )
    return LOOKUPS[lookup](getattr(model, name), value)


def _conditions(model: type[Any], items: list[_Item]) -> list[ColumnElement[bool]]:
    mapper: Mapper[Any] = model.__mapper__
    result: list[ColumnElement[bool]] = []
    related: dict[str, list[_Item]] = {}
    for parts, value, key in items:
        name = parts[0]
        if name in mapper.relationships:
            target = mapper.relationships[name].mapper.class_
            rest = parts[1:]
            if rest and _is_field(target, rest[0]):
                related.setdefault(name, []).append((rest, value, key))
            else:
                result.append(_relation_condition(model, name, rest, value, key))
        else:
            result.append(_column_condition(model, parts, value, key))
    for name, group in related.items():
        relationship = mapper.relationships[name]
        attribute = getattr(model, name)
        inner = and_(*_conditions(relationship.mapper.class_, group))
        result.append(attribute.any(inner) if relationship.uselist else attribute.has(inner))
    return result


def conditions(model: type[Any], lookups: dict[str, Any]) -> list[ColumnElement[bool]]:
    """Turn `{"title__icontains": "x", "author__name": "Ursula"}` into SQL conditions."""
    return _conditions(model, [(key.split("__"), value, key) for key, value in lookups.items()])


def negate(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Return NOT `condition`, where a NULL comparison counts as false (Django's `exclude`)."""
    return not_(func.coalesce(condition, false()))


class Q:
    """Conditions combined with `&` (and), `|` (or) and `~` (not), as in Django.

    ```python
    from trivium.db import Q

    Book.objects(session).filter(Q(title__icontains="sea") | ~Q(pages__lt=200))
    ```

    The keywords of one `Q` are ANDed; SQLAlchemy expressions may be given as positional
    arguments. `~Q(...)` keeps rows where the condition is NULL, as `exclude()` does.
    """

    __slots__ = ("children", "connector", "negated")

    def __init__(self, *where: Q | ColumnElement[bool], **lookups: Any) -> None:
        self.children: tuple[Any, ...] = (*where, *lookups.items())
        """The conditions: `Q` objects, SQLAlchemy expressions and `(key, value)` lookups."""
        self.connector = "AND"
        """How the children combine: `"AND"` or `"OR"`."""
        self.negated = False
        """Whether the whole is negated."""

    def _combine(self, other: object, connector: str) -> Q:
        if not isinstance(other, Q):
            return NotImplemented  # type: ignore[no-any-return]
        # As in Django, an empty Q adds no condition: `Q(a=1) | Q()` is `Q(a=1)`.
        if not other.children:
            return self
        if not self.children:
            return other
        combined = Q(self, other)
        combined.connector = connector
        return combined

    def __and__(self, other: Q) -> Q:
        return self._combine(other, "AND")

    def __or__(self, other: Q) -> Q:
        return self._combine(other, "OR")

    def __invert__(self) -> Q:
        flipped = Q()
        flipped.children, flipped.connector = self.children, self.connector
        flipped.negated = not self.negated
        return flipped

    def __repr__(self) -> str:
        inner = f" {self.connector} ".join(
            f"{child[0]}={child[1]!r}" if isinstance(child, tuple) else repr(child)
            for child in self.children
        )
        return f"{'~' if self.negated else ''}Q({inner})"

    def resolve(self, model: type[Any]) -> ColumnElement[bool]:
        """Return the SQL condition on `model`'s rows.

        Raises:
            QueryError: a key names a field or lookup `model` does not have.
        """
        lookups: dict[str, Any] = dict(c for c in self.children if isinstance(c, tuple))
        others = [
            child.resolve(model) if isinstance(child, Q) else child
            for child in self.children
            if not isinstance(child, tuple)
        ]
        if self.connector == "AND":
            parts = [*others, *conditions(model, lookups)]
            condition = and_(*parts) if parts else true()
        else:
            parts = [*others, *(and_(*conditions(model, {k: v})) for k, v in lookups.items())]
            condition = or_(*parts) if parts else true()
        return negate(condition) if self.negated else condition


def value_columns(model: type[Any], names: tuple[str, ...]) -> tuple[list[Any], list[Any]]:
    """Return the columns of `values("title", "author__name")` and the outer joins they need.

    Each relationship path is joined once, as an alias (LEFT OUTER JOIN, so rows without
    a related row keep `None`); a collection gives one row per related row, as in Django.

    Raises:
        QueryError: a name is not a column at the end of a path of relationships.
    """
    joins: dict[tuple[str, ...], tuple[Any, Any]] = {}
    columns = []
    for name in names:
        parts = name.split("__")
        entity: Any = model
        cls: type[Any] = model
        for index, part in enumerate(parts[:-1]):
            attribute, is_relation = field(cls, part)
            if not is_relation:
                raise QueryError(f"{cls.__name__}.{part} in {name!r} is not a relationship")
            prefix = tuple(parts[: index + 1])
            if prefix not in joins:
                target = aliased(attribute.property.mapper.class_)
                joins[prefix] = (target, getattr(entity, part).of_type(target))
            entity, cls = joins[prefix][0], attribute.property.mapper.class_
        attribute, is_relation = field(cls, parts[-1])
        if is_relation:
            raise QueryError(
                f"values() takes columns; {cls.__name__}.{parts[-1]} is a relationship"
            )
        columns.append(getattr(entity, parts[-1]).label(name))
    return columns, list(joins.values())
