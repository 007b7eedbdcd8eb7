"""Lookups (`title__icontains="x"`) with one meaning on SQLite, PostgreSQL and MariaDB.

Databases disagree on case: SQLite's `LIKE` and `lower()` know ASCII only, and MariaDB's
default collations make even `=` ignore case and accents. Each text lookup is therefore
a small SQL construct compiled per dialect:

- `exact`, `in`, `gt`... and `contains`/`startswith`/`endswith` compare code points
  exactly (MariaDB: a binary `NO PAD` collation; SQLite: `GLOB`, which is case-sensitive).
- `iexact`, `icontains`, `istartswith`, `iendswith` compare both sides lowered with
  Unicode's simple (one-to-one) case mapping: `lower()` on PostgreSQL, `LOWER()` under a
  Unicode 5.2 collation then compared in binary on MariaDB, and a Python function
  registered on each SQLite connection (`register_sqlite_functions`).

Accents always count (`école` ≠ `ecole`), `ß` does not expand to `ss`, and no language's
tailoring applies (Turkish dotless i is not paired with `I`). docs/database.md has the matrix.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean
from sqlalchemy import ColumnElement
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Enum
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import bindparam
from sqlalchemy import cast
from sqlalchemy import extract
from sqlalchemy import literal
from sqlalchemy import true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from trivium.errors import TriviumError

__all__ = [
    "LOOKUPS",
    "TRANSFORMS",
    "QueryError",
    "as_text",
    "fold",
    "is_text",
    "register_sqlite_functions",
    "sqlite_lower",
]

Builder = Callable[[Any, Any], ColumnElement[bool]]


class QueryError(TriviumError, ValueError):
    """A query names a field or lookup the model does not have, or misuses one."""


def sqlite_lower(value: Any) -> Any:
    """Lower `value` with Unicode's simple case mapping (what PostgreSQL and MariaDB do).

    Python's `str.lower()` applies the full mapping, which turns `İ` (U+0130) into two
    code points; the simple mapping gives `i`, as the databases do.
    """
    if not isinstance(value, str):
        # SQLite lets any column hold a number or bytes: those have no case to fold.
        return value
    return value.replace("\u0130", "i").lower()


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Register the SQL functions the lookups use on a new SQLite connection."""
    dbapi_connection.create_function("trivium_lower", 1, sqlite_lower, deterministic=True)


def _mariadb_bin(compiler: SQLCompiler) -> str:
    # NO PAD: `'a' = 'a '` is false, as on PostgreSQL and SQLite.
    return (
        "utf8mb4_nopad_bin"
        if getattr(compiler.dialect, "is_mariadb", False)
        else "utf8mb4_0900_bin"
    )


class fold(FunctionElement[str]):  # noqa: N801 - an SQL function, named like one
    """`lower(x)` with Unicode's simple case mapping on every database."""

    type = String()
    name = "trivium_fold"
    inherit_cache = True


@compiles(fold)
def _fold(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(fold, "sqlite")
def _fold_sqlite(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"trivium_lower({compiler.process(element.clauses, **kw)})"


def _fold_mysql(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    # The Unicode 5.2 collation lowers characters the default (4.0) tables miss (ẞ);
    # the result is compared in binary so that accents count.
    inner = compiler.process(element.clauses, **kw)
    return (
        f"(LOWER(CONVERT({inner} USING utf8mb4) COLLATE utf8mb4_unicode_520_ci) "
        f"COLLATE {_mariadb_bin(compiler)})"
    )


class binary(FunctionElement[str]):  # noqa: N801
    """The text `x` compared code point by code point (only MariaDB/MySQL need a change)."""

    type = String()
    name = "trivium_binary"
    inherit_cache = True


@compiles(binary)
def _binary(element: binary, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


def _binary_mysql(element: binary, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"(CONVERT({inner} USING utf8mb4) COLLATE {_mariadb_bin(compiler)})"


class code_point_order(FunctionElement[str]):  # noqa: N801
    """The text `x` ordered by code point (`gt`, `lt`, `range`), whatever the collation."""

    type = String()
    name = "trivium_code_point_order"
    inherit_cache = True


@compiles(code_point_order)
def _code_point_order(element: code_point_order, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(code_point_order, "postgresql")
def _code_point_order_postgresql(
    element: code_point_order, compiler: SQLCompiler, **kw: Any
) -> str:
    return f'({compiler.process(element.clauses, **kw)} COLLATE "C")'


class strict_equal(FunctionElement[bool]):  # noqa: N801
    """`a = b` on text, case- and accent-sensitive everywhere, still using `a`'s index."""

    type = Boolean()
    name = "trivium_strict_equal"
    inherit_cache = True


@compiles(strict_equal)
def _strict_equal(element: strict_equal, compiler: SQLCompiler, **kw: Any) -> str:
    left, right = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{left} = {right}"


def _strict_equal_mysql(element: strict_equal, compiler: SQLCompiler, **kw: Any) -> str:
    # The first comparison can use the column's (case-insensitive) index, the second
    # keeps only exact matches.
    column, value = element.clauses
    left = compiler.process(column, **kw)
    right = compiler.process(value, **kw)
    exact = compiler.process(binary(value), **kw)
    return f"({left} = {right} AND {left} = {exact})"


class text_match(FunctionElement[bool]):  # noqa: N801
    """`contains`/`startswith`/`endswith`, case-sensitive: `LIKE` or SQLite's `GLOB`.

    Arguments: the column, the escaped `LIKE` pattern and the escaped `GLOB` pattern.
    """

    type = Boolean()
    name = "trivium_text_match"
    inherit_cache = True


@compiles(text_match)
def _text_match(element: text_match, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern, _glob = element.clauses
    left, right = compiler.process(column, **kw), compiler.process(pattern, **kw)
    return f"{left} LIKE {right} ESCAPE '/'"


@compiles(text_match, "sqlite")
def _text_match_sqlite(element: text_match, compiler: SQLCompiler, **kw: Any) -> str:
    column, _pattern, glob = element.clauses
    return f"{compiler.process(column, **kw)} GLOB {compiler.process(glob, **kw)}"


def _text_match_mysql(element: text_match, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern, _glob = element.clauses
    left = compiler.process(binary(column), **kw)
    right = compiler.process(pattern, **kw)
    return f"{left} LIKE {right} ESCAPE '/'"


for _dialect in ("mysql", "mariadb"):
    compiles(fold, _dialect)(_fold_mysql)
    compiles(binary, _dialect)(_binary_mysql)
    compiles(code_point_order, _dialect)(_binary_mysql)
    compiles(strict_equal, _dialect)(_strict_equal_mysql)
    compiles(text_match, _dialect)(_text_match_mysql)


class utc(FunctionElement[datetime.datetime]):  # noqa: N801
    """A timestamp column seen in UTC (PostgreSQL's `timestamptz` follows the session zone)."""

    type = DateTime()
    name = "trivium_utc"
    inherit_cache = True


@compiles(utc)
def _utc(element: utc, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(utc, "postgresql")
def _utc_postgresql(element: utc, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    inner = compiler.process(column, **kw)
    if getattr(column.type, "timezone", False):
        return f"({inner} AT TIME ZONE 'UTC')"
    return inner


class date_of(FunctionElement[datetime.date]):  # noqa: N801
    """The date part of a timestamp, in UTC."""

    type = Date()
    name = "trivium_date"
    inherit_cache = True


@compiles(date_of)
def _date_of(element: date_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(utc(*element.clauses), **kw)} AS DATE)"


@compiles(date_of, "sqlite")
def _date_of_sqlite(element: date_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


def is_text(column: Any) -> bool:
    """Whether `column` holds text compared by the text rules (not an `Enum`)."""
    sql_type = getattr(column, "type", None)
    return isinstance(sql_type, String) and not isinstance(sql_type, Enum)


def as_text(column: Any) -> Any:
    """Return `column` as text: itself if it holds text, else cast (`pages__icontains="2"`).

    As in Django, the text lookups on a number, date or enum column match its text form
    (the form differs between databases for floats and booleans).
    """
    return column if is_text(column) else cast(column, String())


def _text_value(lookup: str, value: Any) -> str:
    if not isinstance(value, str):
        raise QueryError(f"the {lookup!r} lookup takes a string, not {value!r}")
    return value


def _like(value: str, kind: str) -> str:
    escaped = value.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"{'%' if kind != 'startswith' else ''}{escaped}{'%' if kind != 'endswith' else ''}"


def _glob(value: str, kind: str) -> str:
    escaped = "".join(f"[{c}]" if c in "*?[" else c for c in value)
    return f"{'*' if kind != 'startswith' else ''}{escaped}{'*' if kind != 'endswith' else ''}"


def _matcher(kind: str, *, ignore_case: bool) -> Builder:
    name = f"i{kind}" if ignore_case else kind

    def build(column: Any, value: Any) -> ColumnElement[bool]:
        text = _text_value(name, value)
        column = as_text(column)
        if ignore_case:
            pattern = literal(_like(text, kind), String())
            return fold(column).like(fold(pattern), escape="/")
        return text_match(column, literal(_like(text, kind)), literal(_glob(text, kind)))

    return build


def _exact(column: Any, value: Any) -> ColumnElement[bool]:
    # `== None` (not `.is_(None)`) also works on many-to-one relationships.
    if value is not None and is_text(column) and isinstance(value, str):
        return strict_equal(column, literal(value, column.type))
    return column == value  # type: ignore[no-any-return]


def exact_param(column: Any, name: str) -> ColumnElement[bool]:
    """Return `column = :name`, with the text rules when `column` holds text."""
    if is_text(column):
        return strict_equal(column, bindparam(name, type_=column.type))
    return column == bindparam(name)  # type: ignore[no-any-return]


def _iexact(column: Any, value: Any) -> ColumnElement[bool]:
    if value is None:  # as in Django: IS NULL
        return column == None  # type: ignore[no-any-return]  # noqa: E711
    return fold(as_text(column)) == fold(literal(_text_value("iexact", value), String()))


def _compare(operator: str) -> Builder:
    def build(column: Any, value: Any) -> ColumnElement[bool]:
        text = is_text(column) and isinstance(value, str)
        left = code_point_order(column) if text else column
        if operator == "gt":
            return left > value  # type: ignore[no-any-return]
        if operator == "gte":
            return left >= value  # type: ignore[no-any-return]
        if operator == "lt":
            return left < value  # type: ignore[no-any-return]
        return left <= value  # type: ignore[no-any-return]

    return build


def _values(lookup: str, value: Any) -> list[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise QueryError(f"the {lookup!r} lookup takes a list of values, not {value!r}")
    return list(value)


def _in(column: Any, value: Any) -> ColumnElement[bool]:
    values = _values("in", value)
    if is_text(column) and all(isinstance(item, str) for item in values):
        return binary(column).in_(values)
    return column.in_(values)  # type: ignore[no-any-return]


def _range(column: Any, value: Any) -> ColumnElement[bool]:
    bounds = _values("range", value)
    if len(bounds) != 2:
        raise QueryError(f"the 'range' lookup takes two values (low, high), not {value!r}")
    low, high = bounds
    left = code_point_order(column) if is_text(column) else column
    return left.between(low, high)


def _isnull(column: Any, value: Any) -> ColumnElement[bool]:
    if not isinstance(value, bool):
        raise QueryError(f"the 'isnull' lookup takes True or False, not {value!r}")
    return column == None if value else column != None  # type: ignore[no-any-return]  # noqa: E711


LOOKUPS: dict[str, Builder] = {
    "exact": _exact,
    "iexact": _iexact,
    "contains": _matcher("contains", ignore_case=False),
    "icontains": _matcher("contains", ignore_case=True),
    "startswith": _matcher("startswith", ignore_case=False),
    "istartswith": _matcher("startswith", ignore_case=True),
    "endswith": _matcher("endswith", ignore_case=False),
    "iendswith": _matcher("endswith", ignore_case=True),
    "gt": _compare("gt"),
    "gte": _compare("gte"),
    "lt": _compare("lt"),
    "lte": _compare("lte"),
    "in": _in,
    "range": _range,
    "isnull": _isnull,
}
"""Lookup name → condition builder, as in `filter(field__lookup=value)`."""


def _part(name: str) -> Callable[[Any], ColumnElement[Any]]:
    def transform(column: Any) -> ColumnElement[Any]:
        return extract(name, utc(column)).cast(Integer)

    return transform


TRANSFORMS: dict[str, Callable[[Any], ColumnElement[Any]]] = {
    "year": _part("year"),
    "month": _part("month"),
    "day": _part("day"),
    "hour": _part("hour"),
    "minute": _part("minute"),
    "date": date_of,
}
"""Transforms of date and time columns, as in `filter(created_at__year__gte=2026)`.

Parts are taken in UTC, as `UTCDateTime` stores them.
"""

TRANSFORM_LOOKUPS = frozenset({"exact", "gt", "gte", "lt", "lte", "in", "range"})
"""The lookups a transform may be followed by."""


def always() -> ColumnElement[bool]:
    """Return a condition every row meets."""
    return true()
