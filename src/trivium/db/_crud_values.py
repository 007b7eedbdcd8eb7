"""Values of the CRUD router that the column types alone do not describe.

Aware datetimes for `DateTime(timezone=True)` and aware times for `Time(timezone=True)`
(SQLite and MariaDB drop the offset, so the value is stored in UTC), times without an
offset for `Time`, ISO 8601 durations for `Interval`, keys that fit in one path segment,
JSON `null` stored as SQL `NULL`, and the server default a `PUT` goes back to.
"""

from __future__ import annotations

import datetime
import re
import urllib.parse
from collections.abc import Collection
from collections.abc import Mapping
from typing import Annotated
from typing import Any

from pydantic import AfterValidator
from pydantic import AwareDatetime
from pydantic import BeforeValidator
from sqlalchemy import JSON
from sqlalchemy import String
from sqlalchemy import literal
from sqlalchemy import null
from sqlalchemy.sql.schema import DefaultClause

from trivium.db._model import in_utc_range

__all__ = [
    "DURATION",
    "KEY_SEGMENT",
    "NAIVE_TIME",
    "UTC_DATETIME",
    "UTC_READ",
    "UTC_TIME",
    "UTC_TIME_READ",
    "json_columns",
    "location",
    "server_default",
    "sql_nulls",
]

KEY_SEGMENT = r"^(?:\.{3,}|[^/\x00]*[^/\x00.][^/\x00]*)$"
"""The pattern of a text primary key the client gives: one path segment of its item URL.

Not empty, no `/` (`/codes/a/b` names no row), not `.` or `..` (URLs drop them), no NUL.
"""


def _to_utc(value: datetime.datetime) -> datetime.datetime:
    return in_utc_range(value).astimezone(datetime.UTC)


def _assume_utc(value: Any) -> Any:
    # SQLite and MariaDB give back the stored UTC value without its offset.
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value


def _naive_time(value: datetime.time) -> datetime.time:
    if value.tzinfo is not None:
        raise ValueError(
            "the column stores times without an offset: give the time without one (10:30:00)"
        )
    return value


UTC_DATETIME: Any = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""The input type of a `DateTime(timezone=True)` column: aware only, converted to UTC."""

UTC_READ: Any = Annotated[AwareDatetime, BeforeValidator(_assume_utc), AfterValidator(_to_utc)]
"""Its output type: the stored value in UTC (a naive one read from SQLite is UTC)."""

NAIVE_TIME: Any = Annotated[datetime.time, AfterValidator(_naive_time)]
"""The input type of a `Time` column without time zone: an offset is a 422."""


def _time_in_utc(value: datetime.time) -> datetime.time:
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(
            "the column stores times with an offset: give one (10:30:00+02:00 or 10:30:00Z)"
        )
    # A time of day has no date: 01:00+02:00 is 23:00 in UTC.
    moment = datetime.datetime.combine(datetime.date(2000, 1, 2), value.replace(tzinfo=None))
    return (moment - offset).time().replace(tzinfo=datetime.UTC)


def _assume_utc_time(value: Any) -> Any:
    # SQLite and MariaDB give back the stored UTC time without its offset.
    if isinstance(value, datetime.time) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value


UTC_TIME: Any = Annotated[datetime.time, AfterValidator(_time_in_utc)]
"""The input type of a `Time(timezone=True)` column: with an offset only, converted to UTC."""

UTC_TIME_READ: Any = Annotated[
    datetime.time, BeforeValidator(_assume_utc_time), AfterValidator(_time_in_utc)
]
"""Its output type: the stored time in UTC (a naive one read from SQLite or MariaDB is UTC)."""

_ISO_DURATION = re.compile(
    r"[-+]?P(?!$)(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?"
)

_INTERVAL_LIMIT = datetime.timedelta(days=354285)
"""The longest duration every backend stores: SQLite and MariaDB keep an `Interval` as the
datetime 1970-01-01 plus the duration, and MariaDB's `DATETIME` starts in year 1000."""


def _iso_duration(value: Any) -> Any:
    if isinstance(value, datetime.timedelta):
        return value  # a stored value, being read
    if not isinstance(value, str) or _ISO_DURATION.fullmatch(value) is None:
        # Numbers of seconds and `HH:MM:SS` are not what the document promises, and a
        # year or a month has no fixed length (pydantic would count 365 and 30 days).
        raise ValueError(
            "give the duration in ISO 8601 weeks, days, hours, minutes and seconds "
            "(P1DT2H30M, PT90S, -PT1H); years and months have no fixed length"
        )
    return value


def _storable(value: datetime.timedelta) -> datetime.timedelta:
    if abs(value) > _INTERVAL_LIMIT:
        raise ValueError(f"the duration must lie within ±{_INTERVAL_LIMIT.days} days")
    return value


DURATION: Any = Annotated[
    datetime.timedelta, BeforeValidator(_iso_duration), AfterValidator(_storable)
]
"""The type of an `Interval` column: an ISO 8601 duration string, as the document says."""


def location(path: str, key: Any) -> str:
    """Return the URL of the item `key` of the collection at `path` (the key percent-encoded)."""
    return f"{path.rstrip('/')}/{urllib.parse.quote(str(key), safe='')}"


def json_columns(model: type[Any]) -> frozenset[str]:
    """Return the attribute names of `model`'s JSON columns."""
    from sqlalchemy import inspect as sa_inspect

    return frozenset(
        attr.key
        for attr in sa_inspect(model).column_attrs
        if len(attr.columns) == 1 and isinstance(attr.columns[0].type, JSON)
    )


def sql_nulls(values: Mapping[str, Any], names: Collection[str]) -> dict[str, Any]:
    """Return `values` with the `None` of the JSON columns `names` made SQL `NULL`.

    Otherwise SQLAlchemy stores JSON's `null`, which `__isnull` does not find.
    """
    return {k: null() if v is None and k in names else v for k, v in values.items()}


def server_default(column: Any) -> Any:
    """Return the SQL a `PUT` sets a left-out field to: the column's server default.

    `None` when it has none, or one that is not a plain default (a `Computed` column).
    """
    default = column.server_default
    if not isinstance(default, DefaultClause):
        return None
    if isinstance(default.arg, str):
        # What the DDL says: a literal in the statement (not a typed parameter),
        # converted to the column's type by the database as on insert.
        return literal(default.arg, String(), literal_execute=True)
    # An SQL expression: `text("'draft'")`, `func.now()`.
    return default.arg
