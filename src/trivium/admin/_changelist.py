"""The change list: reading the query string, building the statements, shaping the page.

The query string is the whole state of a change list (search `q`, ordering `o`, page
`p` or keyset cursor `after`, filter parameters, date drill-down), so every view of it
is a link that works without JavaScript. Anything malformed or unknown is ignored and
reported in `messages`; it never fails the page.

Per page the statements are fixed: one bounded count, one page of rows, one `SELECT ...
IN` per shown relationship, one per foreign-key filter and one for the date drill-down.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from trivium.admin._filters import FilterError
from trivium.admin._filters import active_parameters
from trivium.admin._options import ModelAdmin
from trivium.admin._query import Count
from trivium.admin._query import Order
from trivium.admin._query import count_rows
from trivium.admin._query import decode_cursor
from trivium.admin._query import encode_cursor
from trivium.admin._query import keyset_condition
from trivium.admin._query import keyset_ready
from trivium.admin._query import loader_options
from trivium.admin._query import order_clauses
from trivium.admin._query import search_condition
from trivium.db import TRANSFORMS
from trivium.db import Q
from trivium.db import QueryError

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from trivium.http import Request

__all__ = ["ChangeList", "display_text", "filtered_statement", "month_days", "parse_ordering"]

RESERVED = frozenset({"q", "o", "p", "after", "_popup"})
_DRILL = ("year", "month", "day")
YEARS = 50
"""The most years the date drill-down lists (the newest ones holding rows)."""


def display_text(value: Any, admin_of: Any = None) -> str:
    """Return how a value is shown in a list or a read-only field."""
    if value is None:
        return "—"
    if isinstance(value, enum.Enum):
        return str(value.name).replace("_", " ").lower()
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, (list, tuple, set)):
        items = list(value)
        shown = ", ".join(display_text(item, admin_of) for item in items[:5])
        return shown + (f" and {len(items) - 5} more" if len(items) > 5 else "")
    if admin_of is not None and hasattr(value, "__mapper__"):
        model_admin = admin_of(type(value))
        if model_admin is not None:
            return str(model_admin.label_of(value))
    return str(value)


def parse_ordering(model_admin: ModelAdmin, raw: str | None, messages: list[str]) -> Order:
    """Return the ordering asked for in `o` (or the default), the primary key last."""
    sortable = {c.sort for c in model_admin.columns if c.sort} | {
        name.lstrip("-") for name in model_admin.ordering
    }
    pk = model_admin.meta.pk.name
    order: Order = []
    if raw:
        for part in raw.split(",")[:5]:
            name = part.strip().lstrip("-")
            if (
                name in sortable
                and (name in model_admin.meta.columns or "__" in name)
                and all(n != name for n, _ in order)
            ):
                order.append((name, part.strip().startswith("-")))
            else:
                messages.append(f"Ignored the unknown sort field {part.strip()!r}.")
    if not order:
        order = [(n.lstrip("-"), n.startswith("-")) for n in model_admin.ordering] or [(pk, True)]
    if all(name != pk for name, _ in order):
        order.append((pk, order[-1][1] if order else True))
    return order


def month_days(year: int, month: int) -> int:
    """The number of days of `month` in `year`."""
    return calendar.monthrange(year, month)[1]


def _int(raw: str | None, low: int, high: int) -> int | None:
    if raw is None or not raw.isdigit():
        return None
    value = int(raw)
    return value if low <= value <= high else None


def _drill(
    model_admin: ModelAdmin, params: Mapping[str, str], messages: list[str]
) -> dict[str, int]:
    field = model_admin.date_hierarchy
    if field is None:
        return {}
    chosen: dict[str, int] = {}
    limits = {"year": (1, 9999), "month": (1, 12), "day": (1, 31)}
    for part in _DRILL:
        raw = params.get(f"{field}__{part}")
        if raw is None:
            break
        value = _int(raw, *limits[part])
        if value is not None and part == "day":
            # Only the month's real days: 2023-02-30 matches nothing, it is a malformed date.
            value = value if value <= month_days(chosen["year"], chosen["month"]) else None
        if value is None:
            messages.append(f"Ignored the date filter {field}__{part}={raw!r}.")
            break
        chosen[part] = value
    return chosen


async def filtered_statement(
    model_admin: ModelAdmin, request: Request, params: Mapping[str, str], messages: list[str]
) -> tuple[Select[Any], bool]:
    """Return the change list's statement with search, filters and drill-down applied.

    The second value tells whether anything restricts the rows.
    """
    statement = model_admin.get_queryset(request)
    restricted = type(model_admin).get_queryset is not ModelAdmin.get_queryset
    for item in model_admin.filters:
        if not any(name in params for name in item.parameters()):
            continue
        try:
            statement = await item.apply(request, statement, params)
            restricted = True
        except (FilterError, QueryError, ValueError) as exc:
            messages.append(f"Ignored the filter {item.title!r}: {exc}.")
    drill = _drill(model_admin, params, messages)
    if drill:
        field = model_admin.date_hierarchy
        lookups = {f"{field}__{part}": value for part, value in drill.items()}
        statement = statement.where(Q(**lookups).resolve(model_admin.model))
        restricted = True
    terms = params.get("q", "").strip()
    if terms:
        condition = search_condition(model_admin.model, model_admin.search_fields, terms)
        if condition is not None:
            statement = statement.where(condition)
            restricted = True
    known = active_parameters(model_admin.filters) | RESERVED
    if model_admin.date_hierarchy:
        known |= {f"{model_admin.date_hierarchy}__{part}" for part in _DRILL}
    messages.extend(
        f"Ignored the unknown parameter {name!r}." for name in params if name not in known
    )
    return statement, restricted


@dataclasses.dataclass
class ChangeList:
    """One page of a change list, ready for the template."""

    model_admin: ModelAdmin
    params: dict[str, str]
    messages: list[str]
    order: Order
    count: Count
    objects: list[Any]
    page: int
    has_next: bool
    next_cursor: str | None
    drill: dict[str, int]
    years: list[int]

    @classmethod
    async def load(
        cls, model_admin: ModelAdmin, request: Request, session: AsyncSession
    ) -> ChangeList:
        """Read the request's query string and run the page's statements."""
        params = dict(request.query_params.items())
        messages: list[str] = []
        statement, restricted = await filtered_statement(model_admin, request, params, messages)
        order = parse_ordering(model_admin, params.get("o"), messages)
        meta = model_admin.meta
        table = None if restricted else meta.model.__table__.name
        count = await count_rows(session, statement, model_admin.count_limit, table_name=table)
        per_page = model_admin.list_per_page
        page = _int(params.get("p"), 1, 10_000_000) or 1
        if "p" in params and str(page) != params["p"]:
            messages.append(f"Ignored the page number {params['p']!r}.")
        last = max(1, -(-count.value // per_page)) if count.exact else None
        if last is not None and page > last and "after" not in params:
            messages.append(f"Page {page} is past the last page; showing page {last}.")
            page = last
        clauses = order_clauses(meta, order, model_admin.site.meta_of)
        rows = statement.order_by(*clauses).limit(per_page + 1)
        cursor = params.get("after")
        keyset = keyset_ready(meta, order)
        if cursor is not None and keyset:
            try:
                rows = rows.where(keyset_condition(meta, order, decode_cursor(meta, order, cursor)))
                page = 0
            except FilterError as exc:
                messages.append(f"Ignored the page cursor: {exc}.")
                rows = rows.offset((page - 1) * per_page)
        else:
            rows = rows.offset((page - 1) * per_page)
        paths = [c.relation_path for c in model_admin.columns if c.relation_path]
        rows = rows.options(*loader_options(model_admin.site.meta_of, meta.model, paths))
        objects = list((await session.scalars(rows)).unique().all())
        has_next = len(objects) > per_page
        objects = objects[:per_page]
        next_cursor = encode_cursor(meta, order, objects[-1]) if has_next and keyset else None
        drill = _drill(model_admin, params, [])
        years = (
            await _years(model_admin, session, statement)
            if model_admin.date_hierarchy and not drill
            else []
        )
        return cls(
            model_admin,
            params,
            messages,
            order,
            count,
            objects,
            page,
            has_next,
            next_cursor,
            drill,
            years,
        )

    def query(
        self, changes: Mapping[str, str | None] | None = None, *, keep_page: bool = False
    ) -> str:
        """Return `?...` for this list with `changes` (a `None` value removes a parameter)."""
        params = dict(self.params)
        if not keep_page:
            params.pop("p", None)
            params.pop("after", None)
        for key, value in (changes or {}).items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return "?" + urlencode(params) if params else "?"


async def _years(
    model_admin: ModelAdmin, session: AsyncSession, statement: Select[Any]
) -> list[int]:
    """The years holding a date of the drill-down field, the newest `YEARS` (one statement)."""
    field = model_admin.date_hierarchy
    if field is None:
        return []
    column = getattr(model_admin.model, field)
    inner = statement.with_only_columns(column).order_by(None).subquery()
    year = TRANSFORMS["year"](inner.c[0])  # in UTC, as the drill-down's filter reads it
    found = await session.scalars(
        select(year)
        .where(inner.c[0].is_not(None))
        .group_by(year)
        .order_by(year.desc())
        .limit(YEARS)
    )
    return sorted(int(value) for value in found)
