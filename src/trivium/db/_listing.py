"""The list operation of a CRUD router: its query parameters and the query they build.

Filters, ordering and search are declared field by field and checked at start-up, so a
client can only filter and sort on what the API author chose (and indexed): the query
parameters are typed from the columns, and an unknown ordering field is a 422.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import re
from collections.abc import Mapping
from typing import Annotated
from typing import Any

from pydantic import AfterValidator
from pydantic import Field
from pydantic import WithJsonSchema
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Numeric
from sqlalchemy import literal
from sqlalchemy import or_

from trivium.db._lookups import TRANSFORM_LOOKUPS
from trivium.db._lookups import TRANSFORMS
from trivium.db._model import UTCDateTime
from trivium.db._model import in_utc_range
from trivium.db._query import LOOKUPS
from trivium.db._query import QuerySet
from trivium.db._schemas import NO_NUL
from trivium.db._schemas import check_fields
from trivium.db._schemas import model_columns
from trivium.errors import ConfigurationError
from trivium.params import Query

__all__ = ["MAX_PAGE", "RESERVED", "Filter", "ListPlan", "ordering_pattern"]

MAX_PAGE = 2**31 - 1
"""The largest page number a client may ask for (beyond it the offset overflows)."""

RESERVED = frozenset({"page", "size", "ordering", "search"})
"""Query parameter names of the list operation that filters cannot take."""

_TEXT_LOOKUPS = frozenset(
    {"iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"}
)

_COMPARISONS = frozenset({"gt", "gte", "lt", "lte", "range"})

_JSON_LOOKUPS = _TEXT_LOOKUPS | {"isnull"}
"""The lookups a JSON column takes: its text form, and whether it is SQL `NULL`."""

_TEXT: Any = Annotated[str, Field(pattern=NO_NUL)]
"""A text filter or search value (without NUL, which PostgreSQL refuses)."""

_PART_BOUNDS = {
    "year": (1, 9999),
    "month": (1, 12),
    "day": (1, 31),
    "hour": (0, 23),
    "minute": (0, 59),
}
"""The values each integer transform takes: beyond them PostgreSQL's int4 overflows (a 500)."""


def _transform_type(transform: str) -> Any:
    if transform == "date":
        return datetime.date
    # A transform without bounds here still gets the range of PostgreSQL's int4.
    low, high = _PART_BOUNDS.get(transform, (-(2**31), 2**31 - 1))
    return Annotated[int, Field(ge=low, le=high)]


@dataclasses.dataclass(frozen=True, slots=True)
class Filter:
    """One declared list filter: the query parameter and the lookup it applies."""

    param: str
    """The query parameter name, as declared (`title__icontains`)."""
    annotation: Any
    """The parameter's type (from the column, or `str`/`bool`/`list` by lookup)."""
    query: Any = None
    """The `Query(...)` marker with the parameter's constraints (`range` takes two values)."""
    unbounded: bool = False
    """Compare as a `Numeric` of any size: bound as the column's `Numeric(p, s)`, PostgreSQL
    would round the value, or overflow (a 500)."""

    def value(self, value: Any) -> Any:
        """Return the query parameter's value as the lookup takes it."""
        if not self.unbounded:
            return value
        if isinstance(value, list):
            return [literal(item, Numeric()) for item in value]
        return literal(value, Numeric())


def _filter_error(model: type[Any], spec: str, reason: str) -> ConfigurationError:
    return ConfigurationError(
        f"crud_router({model.__name__}): cannot filter by {spec!r}: {reason}", "crud-bad-filter"
    )


def _filter(model: type[Any], spec: str, excluded: set[str]) -> Filter:
    field, _, rest = spec.partition("__")
    parts = rest.split("__") if rest else []
    check_fields(model, [field], "filters")
    transform = parts.pop(0) if parts and parts[0] in TRANSFORMS else None
    lookup = parts[0] if parts else "exact"
    allowed = TRANSFORM_LOOKUPS if transform else LOOKUPS.keys()
    if field in excluded:
        raise _filter_error(model, spec, f"{field!r} is excluded")
    if spec in RESERVED:
        raise _filter_error(model, spec, f"{spec!r} is a reserved parameter")
    if len(parts) > 1 or lookup not in allowed:
        transforms = "" if transform else f"; or a transform: {', '.join(TRANSFORMS)}"
        raise _filter_error(
            model, spec, f"unknown lookup {lookup!r}; use one of {', '.join(allowed)}{transforms}"
        )
    column = model_columns(model)[field]
    if column.json and lookup not in _JSON_LOOKUPS:
        # PostgreSQL has no `=` or ordering for `json` (a 500 on the first request).
        raise _filter_error(
            model,
            spec,
            f"{field!r} is a JSON column, which only takes {', '.join(sorted(_JSON_LOOKUPS))}",
        )
    # The value type carries the column's range, so the document promises no value the
    # database would refuse (a comparison value needn't be storable: more decimals).
    unbounded = lookup in _COMPARISONS and column.digits is not None and transform is None
    value_type = column.bounded(comparison=unbounded)
    sql_type = getattr(model, field).type
    if transform is not None:
        if not isinstance(getattr(sql_type, "impl_instance", sql_type), Date | DateTime):
            raise _filter_error(model, spec, f"{transform!r} needs a date or time column")
        value_type = _transform_type(transform)
    elif isinstance(sql_type, UTCDateTime):
        # An offset can carry a valid datetime out of years 1-9999 in UTC (an overflow).
        value_type = Annotated[value_type, AfterValidator(in_utc_range)]
    annotation: Any = value_type
    if lookup in _TEXT_LOOKUPS:
        annotation = _TEXT
    elif lookup == "isnull":
        annotation = bool
    elif lookup == "in":
        annotation = list[value_type]  # type: ignore[valid-type]
    elif lookup == "range":
        annotation = list[value_type]  # type: ignore[valid-type]
        return Filter(spec, annotation, Query(min_length=2, max_length=2), unbounded)
    return Filter(spec, annotation, unbounded=unbounded)


def ordering_pattern(allowed: tuple[str, ...]) -> str:
    """Return the regular expression of an `ordering` value: allowed fields, comma-separated.

    Spaces around the commas are allowed; the empty string (an HTML form's empty field)
    means the default order.
    """
    field = "-?(?:" + "|".join(re.escape(name) for name in allowed) + ")"
    return f"^(?:{field}(?: *, *{field})*)?$"


def _ordering_type(allowed: tuple[str, ...]) -> Any:
    pattern = ordering_pattern(allowed)
    compiled = re.compile(pattern)

    def parse(value: str) -> tuple[str, ...]:
        # The pattern is documented, but checked here so that the error names the fields.
        if compiled.fullmatch(value) is None:
            unknown = [
                name
                for name in (item.strip().removeprefix("-") for item in value.split(","))
                if name and name not in allowed
            ]
            reason = f"cannot order by {unknown[0]!r}" if unknown else "malformed ordering"
            raise ValueError(
                f"{reason}; give comma-separated fields from: {', '.join(allowed)} "
                "(prefix '-' for descending)"
            )
        return tuple(item.strip() for item in value.split(",")) if value else ()

    return Annotated[
        str, AfterValidator(parse), WithJsonSchema({"type": "string", "pattern": pattern})
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class ListPlan:
    """What the list operation accepts and how it turns it into a query."""

    model: type[Any]
    pk: str
    filters: tuple[Filter, ...]
    ordering: tuple[str, ...]
    default_ordering: tuple[str, ...]
    search: tuple[str, ...]
    page_size: int
    max_page_size: int

    @classmethod
    def build(cls, model: type[Any], options: Mapping[str, Any], pk: str) -> ListPlan:
        """Check the list options of `crud_router` against `model` and compile them.

        Raises:
            ConfigurationError: an option names an unknown or excluded column, a filter
                lookup does not exist, or the page sizes are out of range.
        """
        excluded = set(options.get("exclude", ()))
        ordering = tuple(options.get("ordering", ()))
        search = tuple(options.get("search", ()))
        default = tuple(options.get("default_ordering", ()))
        for option, names in (
            ("ordering", ordering),
            ("search", search),
            ("default_ordering", [n.removeprefix("-") for n in default]),
        ):
            check_fields(model, names, option)
            if excluded & set(names):
                raise ConfigurationError(
                    f"crud_router({model.__name__}): {option} names excluded fields "
                    f"{sorted(excluded & set(names))}",
                    "crud-bad-filter",
                )
        columns = model_columns(model)
        unordered = sorted(
            name
            for name in {*ordering, *(n.removeprefix("-") for n in default)}
            if columns[name].json
        )
        if unordered:
            raise ConfigurationError(
                f"crud_router({model.__name__}): cannot order by {unordered}: JSON columns "
                "have no order on every database; order by other columns",
                "crud-bad-filter",
            )
        page_size = options.get("page_size", 20)
        max_page_size = options.get("max_page_size", 100)
        if not 1 <= page_size <= max_page_size:
            raise ConfigurationError(
                f"crud_router({model.__name__}): page_size={page_size} must be between 1 "
                f"and max_page_size={max_page_size}",
                "crud-page-size",
            )
        filters = tuple(_filter(model, spec, excluded) for spec in options.get("filters", ()))
        return cls(model, pk, filters, ordering, default, search, page_size, max_page_size)

    def params(self) -> list[inspect.Parameter]:
        """Return the list handler's query parameters."""

        def query(name: str, annotation: Any, default: Any) -> inspect.Parameter:
            return inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )

        params = [
            query(
                "page",
                Annotated[int, Query(ge=1, le=MAX_PAGE, description="The page number, from 1")],
                1,
            ),
            query(
                "size",
                Annotated[int, Query(ge=1, le=self.max_page_size, description="Rows per page")],
                self.page_size,
            ),
        ]
        if self.ordering:
            described = Query(
                description="Comma-separated fields, '-' for descending: "
                + ", ".join(self.ordering)
            )
            ordering = _ordering_type(self.ordering)
            params.append(query("ordering", Annotated[ordering | None, described], None))
        if self.search:
            described = Query(
                description="Case-insensitive text searched in: " + ", ".join(self.search)
            )
            params.append(query("search", Annotated[_TEXT | None, described], None))
        params.extend(
            query(f.param, Annotated[f.annotation | None, f.query or Query()], None)
            for f in self.filters
        )
        return params

    def apply(self, query: QuerySet[Any], params: Mapping[str, Any]) -> QuerySet[Any]:
        """Filter, search and order `query` by the validated query parameters."""
        lookups = {
            f.param: f.value(params[f.param]) for f in self.filters if params[f.param] is not None
        }
        if lookups:
            query = query.filter(**lookups)
        text = params.get("search")
        if text:
            columns = [getattr(self.model, name) for name in self.search]
            icontains = LOOKUPS["icontains"]
            query = query.filter(or_(*(icontains(column, text) for column in columns)))
        order = params.get("ordering") or self.default_ordering
        if self.pk not in {name.removeprefix("-") for name in order}:
            # A unique last key keeps pages stable when the other keys tie.
            order = (*order, self.pk)
        return query.order_by(*order)
