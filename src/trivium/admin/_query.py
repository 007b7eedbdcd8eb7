"""The change list's SQL: search, ordering, keyset cursors, bounded counts, relation loading.

Big tables decide the shape of every statement here:

- **Counting.** One statement per page, whatever the table's size: a count bounded by
  `limit + 1` rows (`SELECT count(*) FROM (SELECT 1 ... LIMIT n)`), which stops early on
  a big table. On PostgreSQL and MariaDB the same statement also reads the catalogue's
  estimate (`pg_class.reltuples`, `information_schema.TABLES.TABLE_ROWS`) so an
  unfiltered big table shows "about N" without an exact `COUNT(*)`.
- **Paging.** Offsets for the first pages, and a keyset cursor (`WHERE (a, pk) > (...)`
  spelled out per column and direction) for "next" on big tables: page 5,000 costs what
  page 2 costs. Keysets need non-nullable plain columns; otherwise offsets are used.
- **Relations.** Shown relations are loaded with `selectinload`: one `SELECT ... WHERE id
  IN (...)` per relation and page, never a row-multiplying join and never N+1.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import orjson
from sqlalchemy import and_
from sqlalchemy import column as sql_column
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import table as sql_table
from sqlalchemy.orm import selectinload

from trivium.admin._filters import FilterError
from trivium.admin._filters import parse_value
from trivium.db import Q

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm.strategy_options import _AbstractLoad

    from trivium.admin._meta import ModelMeta

__all__ = [
    "Count",
    "Order",
    "check_search_fields",
    "count_rows",
    "decode_cursor",
    "encode_cursor",
    "keyset_condition",
    "keyset_ready",
    "loader_options",
    "order_clauses",
    "search_condition",
]

Order = list[tuple[str, bool]]
"""`[(column name, descending)]`, the primary key last."""

_SEARCH_PREFIXES = {"^": "istartswith", "=": "iexact", "@": "icontains"}


class Count:
    """What the change list knows about its number of rows."""

    __slots__ = ("estimate", "exact", "value")

    def __init__(self, value: int, exact: bool, estimate: int | None) -> None:
        self.value = value
        """The exact count, or the bound it exceeds."""
        self.exact = exact
        """Whether `value` is exact."""
        self.estimate = estimate
        """The database's estimate of the table's rows (unfiltered big tables)."""

    def __str__(self) -> str:
        if self.exact:
            return f"{self.value:,}"
        if self.estimate is not None and self.estimate > self.value:
            return f"about {self.estimate:,}"
        return f"more than {self.value:,}"


def _estimate(dialect: str, table_name: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy import cast
        from sqlalchemy.dialects.postgresql import REGCLASS

        pg_class = sql_table("pg_class", sql_column("oid"), sql_column("reltuples"))
        return (
            select(pg_class.c.reltuples)
            .where(pg_class.c.oid == cast(literal(table_name), REGCLASS))
            .scalar_subquery()
        )
    if dialect in ("mysql", "mariadb"):
        tables = sql_table(
            "TABLES",
            sql_column("TABLE_ROWS"),
            sql_column("TABLE_SCHEMA"),
            sql_column("TABLE_NAME"),
            schema="information_schema",
        )
        return (
            select(tables.c.TABLE_ROWS)
            .where(
                tables.c.TABLE_SCHEMA == func.database(),  # noqa: SIM300 - a column, not a constant
                tables.c.TABLE_NAME == literal(table_name),  # noqa: SIM300
            )
            .scalar_subquery()
        )
    return None


async def count_rows(
    session: AsyncSession, statement: Select[Any], limit: int, *, table_name: str | None
) -> Count:
    """Count the rows of `statement` up to `limit + 1`, in one statement.

    `table_name` (for an unfiltered list) adds the catalogue's estimate of the table.
    """
    inner = (
        statement.with_only_columns(literal(1), maintain_column_froms=True)
        .order_by(None)
        .limit(limit + 1)
        .subquery()
    )
    bounded = select(func.count()).select_from(inner).scalar_subquery()
    estimate = None
    if table_name is not None:
        estimate = _estimate(session.get_bind().dialect.name, table_name)
    row = (
        await session.execute(select(bounded, estimate if estimate is not None else literal(None)))
    ).one()
    value = int(row[0])
    guess = int(row[1]) if row[1] is not None and float(row[1]) >= 0 else None
    if value <= limit:
        return Count(value, True, None)
    return Count(limit, False, guess)


def order_clauses(meta: ModelMeta, order: Order, meta_of: Any = None) -> list[Any]:
    """Return the `ORDER BY` clauses of `order`: `meta`'s columns, or related columns.

    A related column (`writer__name`, along many-to-one relationships) is ordered by a
    correlated scalar subquery, so no join multiplies or drops rows (rows without a
    related object sort as NULL).
    """
    model = meta.model
    clauses = []
    for name, desc in order:
        expression = getattr(model, name) if "__" not in name else _related(meta, name, meta_of)
        clauses.append(expression.desc() if desc else expression.asc())
    return clauses


def _related(meta: ModelMeta, path: str, meta_of: Any) -> Any:
    parts = path.split("__")
    steps = []
    current = meta
    for part in parts[:-1]:
        relation = current.relations[part]
        steps.append((current.model, relation))
        current = meta_of(relation.target)
    expression: Any = getattr(current.model, parts[-1])
    for owner, relation in reversed(steps):
        target = relation.target
        target_pk = getattr(target, meta_of(target).pk.name)
        local = getattr(owner, relation.local_columns[0])
        expression = select(expression).where(target_pk == local).correlate(owner).scalar_subquery()
    return expression


def keyset_ready(meta: ModelMeta, order: Order) -> bool:
    """Whether `order` allows keyset paging (plain non-nullable columns, key last)."""
    if not order or order[-1][0] != meta.pk.name:
        return False
    return all(name in meta.columns and not meta.columns[name].nullable for name, _ in order)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (int, str, float, bool)) or value is None:
        return value
    return str(value)


def encode_cursor(meta: ModelMeta, order: Order, obj: Any) -> str:
    """Return the cursor after `obj` in `order` (URL-safe text)."""
    values = [_plain(getattr(obj, name)) for name, _ in order]
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(meta: ModelMeta, order: Order, cursor: str) -> list[Any]:
    """Return the values of a cursor made by `encode_cursor`.

    Raises:
        FilterError: it is not one (tampered, or made for another order).
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, orjson.JSONDecodeError, ValueError) as exc:
        raise FilterError("the page cursor is malformed") from exc
    if not isinstance(values, list) or len(values) != len(order):
        raise FilterError("the page cursor does not match the ordering")
    result = []
    for (name, _), value in zip(order, values, strict=True):
        info = meta.columns[name]
        if isinstance(value, (dict, list)) or value is None:
            raise FilterError("the page cursor is malformed")
        result.append(value if isinstance(value, bool) else parse_value(info, str(value)))
    return result


def keyset_condition(meta: ModelMeta, order: Order, values: Sequence[Any]) -> ColumnElement[bool]:
    """Return the condition selecting rows after `values` in `order`."""
    model = meta.model
    alternatives = []
    for index, (name, desc) in enumerate(order):
        attribute = getattr(model, name)
        equal = [getattr(model, n) == values[i] for i, (n, _) in enumerate(order[:index])]
        step = attribute < values[index] if desc else attribute > values[index]
        alternatives.append(and_(*equal, step))
    return or_(*alternatives) if alternatives else false()


def search_condition(
    model: type[Any], fields: Sequence[str], terms: str
) -> ColumnElement[bool] | None:
    """Return the condition of a search: every word must match one of `fields`.

    Raises:
        QueryError: a search field names no field of `model`.
    """
    # No stored text holds NUL (the admin's forms refuse it; PostgreSQL cannot), and
    # PostgreSQL refuses a query holding one: leave it out of the words.
    words = terms.replace("\x00", "").split()[:10]
    if not words or not fields:
        return None
    parts = []
    for word in words:
        alternatives = Q()
        for spec in fields:
            lookup = _SEARCH_PREFIXES.get(spec[0], "icontains")
            name = spec[1:] if spec[0] in _SEARCH_PREFIXES else spec
            alternatives |= Q(**{f"{name}__{lookup}": word})
        parts.append(alternatives.resolve(model))
    return and_(*parts)


def check_search_fields(model: type[Any], fields: Sequence[str]) -> None:
    """Raise `QueryError` when a search field names no field of `model`."""
    if fields:
        search_condition(model, fields, "x")


def loader_options(meta_of: Any, model: type[Any], paths: Sequence[str]) -> list[_AbstractLoad]:
    """Return `selectinload` options for relation paths (`author`, `author__company`).

    One `SELECT ... IN` per relationship level and page; shared prefixes load once.
    """
    options: dict[tuple[str, ...], _AbstractLoad] = {}
    for path in paths:
        parts = path.split("__")
        current: type[Any] = model
        loader: Any = None
        key: tuple[str, ...] = ()
        for part in parts:
            relation = meta_of(current).relations.get(part)
            if relation is None:
                break
            key = (*key, part)
            attribute = getattr(current, part)
            loader = selectinload(attribute) if loader is None else loader.selectinload(attribute)
            options.setdefault(key, loader)
            current = relation.target
    # The longest paths carry their prefixes; keep only the leaves.
    leaves = [k for k in options if not any(o[: len(k)] == k and o != k for o in options)]
    return [options[k] for k in leaves]
