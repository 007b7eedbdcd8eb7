"""Change-list filters: booleans, choices and enums, dates, foreign keys, and custom ones.

A filter owns some query parameters (`published__exact`, `created_at__gte`...), turns
their values into a condition, and lists its choices as links. Values are checked
against the column's type; a value that does not parse is ignored and reported to the
page, never a 500. A foreign-key filter lists at most `FK_CHOICES` targets (one query),
so a big target table is never loaded.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError
from sqlalchemy import select

from trivium.admin._meta import ColumnInfo
from trivium.admin._meta import verbose
from trivium.admin._options import maybe_await

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.admin._options import ModelAdmin
    from trivium.http import Request

__all__ = [
    "FK_CHOICES",
    "FieldFilter",
    "FilterError",
    "ListFilter",
    "active_parameters",
    "field_filter",
    "parse_value",
]

FK_CHOICES = 100
"""The most foreign-key targets a filter lists."""


class FilterError(ValueError):
    """A filter value that cannot be used (reported on the page, then ignored)."""


def parse_value(info: ColumnInfo, raw: str) -> Any:
    """Return `raw` as a value of `info`'s column.

    Raises:
        FilterError: it is not one.
    """
    if info.enum_class is not None:
        for member in info.enum_class:
            if raw in (member.name, str(member.value)):
                return member
        raise FilterError(f"{raw!r} is not one of the choices of {info.name}")
    if "\x00" in raw:  # no stored value holds one, and PostgreSQL refuses it in a query
        raise FilterError(f"{raw!r} is not a valid value for {info.name}")
    python_type = info.value_type
    if info.is_date and python_type is not datetime.date:
        python_type = datetime.date if len(raw) <= 10 else datetime.datetime
    try:
        value = TypeAdapter(python_type).validate_python(raw)
    except (ValidationError, TypeError) as exc:
        raise FilterError(f"{raw!r} is not a valid value for {info.name}") from exc
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    if (
        isinstance(value, datetime.date)
        and not isinstance(value, datetime.datetime)
        and info.python_type is not datetime.date
    ):
        value = datetime.datetime.combine(value, datetime.time(), tzinfo=datetime.UTC)
    return value


class ListFilter:
    """A custom change-list filter: subclass it and name it in `list_filter`.

    ```python
    class Decade(ListFilter):
        title = "decade"
        parameter_name = "decade"

        def lookups(self, request, model_admin):
            return [("1990", "the 1990s"), ("2000", "the 2000s")]

        def queryset(self, request, statement, value):
            start = int(value)
            return statement.where(Book.year >= start, Book.year < start + 10)
    ```
    """

    title: str = ""
    """The heading of the filter."""
    parameter_name: str = ""
    """The query parameter holding the chosen value."""

    def lookups(self, request: Request, model_admin: ModelAdmin) -> Any:
        """Return the `(value, label)` choices (may be async)."""
        del request, model_admin
        return []

    def queryset(self, request: Request, statement: Select[Any], value: str) -> Any:
        """Return `statement` restricted to `value` (may be async)."""
        del request, value
        return statement

    def parameters(self) -> tuple[str, ...]:
        """The query parameters this filter reads."""
        return (self.parameter_name,)

    async def choices(
        self, request: Request, model_admin: ModelAdmin, session: AsyncSession
    ) -> list[tuple[dict[str, str] | None, str]]:
        """Return `(parameters or None for "All", label)` for each link."""
        del session
        found = await maybe_await(self.lookups(request, model_admin))
        return [(None, "All")] + [({self.parameter_name: str(v)}, str(label)) for v, label in found]

    async def apply(
        self, request: Request, statement: Select[Any], params: Mapping[str, str]
    ) -> Select[Any]:
        """Return `statement` with this filter's chosen value applied."""
        value = params.get(self.parameter_name)
        if value is None:
            return statement
        result: Select[Any] = await maybe_await(self.queryset(request, statement, value))
        return result


class FieldFilter(ListFilter):
    """The filter made for a field named in `list_filter`."""

    def __init__(self, info: ColumnInfo, kind: str) -> None:
        self.info = info
        self.kind = kind
        self.title = verbose(info.relation or info.name)
        self.parameter_name = f"{info.name}__exact"

    def parameters(self) -> tuple[str, ...]:
        """The query parameters this filter reads."""
        name = self.info.name
        if self.kind == "date":
            return (f"{name}__gte", f"{name}__lt", f"{name}__isnull")
        return (f"{name}__exact", f"{name}__isnull")

    def condition(self, key: str, raw: str) -> ColumnElement[bool]:
        """Return the SQL condition of one parameter.

        Raises:
            FilterError: the value is not one of the field's.
        """
        column = getattr(self.info.column.table.c, self.info.column.key)
        lookup = key.rsplit("__", 1)[1]
        if lookup == "isnull":
            if raw not in ("0", "1", "True", "False", "true", "false"):
                raise FilterError(f"{raw!r} is not a yes/no value for {self.info.name}")
            isnull = raw in ("1", "True", "true")
            test: ColumnElement[bool] = column.is_(None) if isnull else column.is_not(None)
            return test
        if self.kind == "bool":
            if raw not in ("0", "1"):
                raise FilterError(f"{raw!r} is not a yes/no value for {self.info.name}")
            flag: ColumnElement[bool] = column == (raw == "1")
            return flag
        value = parse_value(self.info, raw)
        result: ColumnElement[bool]
        if lookup == "gte":
            result = column >= value
        elif lookup == "lt":
            result = column < value
        else:
            result = column == value
        return result

    async def apply(
        self, request: Request, statement: Select[Any], params: Mapping[str, str]
    ) -> Select[Any]:
        """Return `statement` with the conditions of the parameters given.

        Raises:
            FilterError: a value does not fit the field.
        """
        del request
        for key in self.parameters():
            raw = params.get(key)
            if raw is not None:
                statement = statement.where(self.condition(key, raw))
        return statement

    async def choices(
        self, request: Request, model_admin: ModelAdmin, session: AsyncSession
    ) -> list[tuple[dict[str, str] | None, str]]:
        """Return the links of the filter."""
        del request
        name = self.info.name
        links: list[tuple[dict[str, str] | None, str]] = [(None, "All")]
        if self.kind == "bool":
            links += [({f"{name}__exact": "1"}, "Yes"), ({f"{name}__exact": "0"}, "No")]
        elif self.kind == "choices":
            for value, label in self.info.choices:
                raw = value.name if hasattr(value, "name") and hasattr(value, "value") else value
                links.append(({f"{name}__exact": str(raw)}, label))
        elif self.kind == "date":
            links += _date_links(name)
        elif self.kind == "fk":
            links += await _fk_links(self.info, model_admin, session)
        if self.info.nullable:
            links.append(({f"{name}__isnull": "1"}, "Unknown" if self.kind != "fk" else "None"))
        return links


def _date_links(name: str) -> list[tuple[dict[str, str] | None, str]]:
    today = datetime.datetime.now(datetime.UTC).date()
    tomorrow = today + datetime.timedelta(days=1)
    month = today.replace(day=1)
    next_month = (month + datetime.timedelta(days=32)).replace(day=1)
    year = today.replace(month=1, day=1)
    ranges = [
        ("Today", today, tomorrow),
        ("Past 7 days", today - datetime.timedelta(days=6), tomorrow),
        ("This month", month, next_month),
        ("This year", year, year.replace(year=year.year + 1)),
    ]
    return [
        ({f"{name}__gte": start.isoformat(), f"{name}__lt": end.isoformat()}, label)
        for label, start, end in ranges
    ]


async def _fk_links(
    info: ColumnInfo, model_admin: ModelAdmin, session: AsyncSession
) -> list[tuple[dict[str, str] | None, str]]:
    target = info.target
    if target is None:
        return []
    target_admin = model_admin.site.admin_for(target)
    pk = model_admin.site.meta_of(target).pk.name
    rows = await session.scalars(select(target).order_by(getattr(target, pk)).limit(FK_CHOICES))
    name = info.name
    label = target_admin.label_of if target_admin is not None else str
    return [({f"{name}__exact": str(getattr(row, pk))}, label(row)) for row in rows]


def field_filter(info: ColumnInfo) -> FieldFilter | None:
    """Return the filter for `info`'s kind, or `None` when the field cannot be filtered."""
    if info.target is not None:
        return FieldFilter(info, "fk")
    if info.is_bool:
        return FieldFilter(info, "bool")
    if info.choices:
        return FieldFilter(info, "choices")
    if info.is_date:
        return FieldFilter(info, "date")
    return None


def active_parameters(filters: Sequence[ListFilter]) -> set[str]:
    """Every query parameter the filters read."""
    return {name for item in filters for name in item.parameters()}
