"""Pydantic schemas generated from a model's columns, for the CRUD router.

Each column becomes a field typed from its SQL type (`String(200)` → `str` with
`max_length=200`); nullable columns accept `None`; columns with a default are optional on
create. Primary keys the database fills in, timestamp columns, the version of a
`Versioned` model and the fields named `read_only` are only ever read; `exclude`d fields are neither read nor written. Input
schemas forbid unknown fields, so sending a read-only field is a 422, not a silent no-op.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from decimal import Decimal
from typing import Annotated
from typing import Any
from typing import Literal
from typing import Optional

from pydantic import AwareDatetime
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import NaiveDatetime
from pydantic import create_model
from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import DateTime
from sqlalchemy import Enum
from sqlalchemy import Float
from sqlalchemy import Integer
from sqlalchemy import Interval
from sqlalchemy import Numeric
from sqlalchemy import SmallInteger
from sqlalchemy import String
from sqlalchemy import Time
from sqlalchemy import inspect as sa_inspect

from trivium.db._crud_values import DURATION
from trivium.db._crud_values import KEY_SEGMENT
from trivium.db._crud_values import NAIVE_TIME
from trivium.db._crud_values import UTC_DATETIME
from trivium.db._crud_values import UTC_READ
from trivium.db._crud_values import UTC_TIME
from trivium.db._crud_values import UTC_TIME_READ
from trivium.db._crud_values import server_default
from trivium.db._model import Timestamps
from trivium.db._model import UTCDateTime
from trivium.errors import ConfigurationError

__all__ = [
    "NO_NUL",
    "CRUDSchemas",
    "ColumnField",
    "build_schemas",
    "check_fields",
    "hidden_required",
    "hidden_required_error",
    "model_columns",
    "noun",
    "reset_values",
    "writable",
]

UNSET: Any = object()
NO_NUL = r"^[^\x00]*$"
"""The pattern of text values: PostgreSQL cannot store the NUL character (a driver error)."""
_INPUT = ConfigDict(extra="forbid")
_READ = ConfigDict(from_attributes=True)


@dataclasses.dataclass(frozen=True, slots=True)
class ColumnField:
    """What the schemas need to know about one mapped column."""

    name: str
    python_type: Any
    nullable: bool
    has_default: bool
    """The database or SQLAlchemy fills it in when it is not given."""
    default: Any
    """The plain default value, or `UNSET` for none (or a computed one)."""
    max_length: int | None
    """The longest string the column stores (`String(200)`); `None` for other types."""
    bounds: tuple[int, int] | None
    """The smallest and largest value an integer column stores on every backend."""
    digits: tuple[int, int] | None
    """The precision and scale of a `Numeric(p, s)` column; `None` for other types."""
    primary_key: bool
    generated: bool
    """Read-only by nature: a generated key, a timestamp, a column set on update, the version."""
    server_default: Any = None
    """The SQL of the column's plain server default (what `PUT` sets a left-out field to)."""
    json: bool = False
    """A JSON column: no ordering, no equality or range filters (not on every backend)."""

    def annotation(self) -> Any:
        """Return the field's Python type, optional when the column is nullable."""
        return Optional[self.python_type] if self.nullable else self.python_type  # noqa: UP045 - a runtime type

    def constraints(self) -> dict[str, Any]:
        """Return the pydantic constraints the column's SQL type implies (length, range)."""
        result: dict[str, Any] = {}
        if self.python_type is str:
            # A key the client gives is a path segment of its URL (Location, GET).
            result["pattern"] = KEY_SEGMENT if self.primary_key and not self.generated else NO_NUL
        if self.max_length is not None:
            result["max_length"] = self.max_length
        if self.bounds is not None:
            result["ge"], result["le"] = self.bounds
        if self.python_type in (float, Decimal):
            # No column of any backend but PostgreSQL's stores NaN or infinity, and JSON
            # cannot carry them back: refuse them with a 422.
            result["allow_inf_nan"] = False
        if self.digits is not None:
            # A value too large for `Numeric(p, s)` is a driver error (a 500), and more
            # decimals than `s` would be rounded without a word: a 422 for both.
            precision, scale = self.digits
            if self.python_type is Decimal:
                result["max_digits"], result["decimal_places"] = precision, scale
            # Documented as `exclusiveMinimum` and `exclusiveMaximum`.
            limit = 10 ** (precision - scale)
            result["gt"], result["lt"] = -limit, limit
        return result

    def bounded(self, *, comparison: bool = False) -> Any:
        """Return the column's Python type carrying its constraints (for query and path values).

        A `comparison` value (`__gte`...) needn't be storable: it may have more digits than
        a `Numeric(p, s)` column.
        """
        constraints = self.constraints()
        if comparison and self.digits is not None:
            for name in ("max_digits", "decimal_places", "gt", "lt"):
                constraints.pop(name, None)
        if not constraints:
            return self.python_type
        return Annotated[self.python_type, Field(**constraints)]


@dataclasses.dataclass(frozen=True, slots=True)
class CRUDSchemas:
    """The schemas of a CRUD router: what each operation reads and writes.

    ```python
    router = crud_router(Article, db, prefix="/articles")
    router.schemas.read  # ArticleRead
    ```
    """

    create: type[BaseModel]
    """The body of `POST` (`ArticleCreate`)."""
    replace: type[BaseModel]
    """The body of `PUT`: the create schema without a client-chosen primary key."""
    update: type[BaseModel]
    """The body of `PATCH`: every field optional (`ArticleUpdate`)."""
    read: type[BaseModel]
    """The response of every operation (`ArticleRead`)."""
    page: type[BaseModel]
    """The response of the list operation (`ArticlePage`)."""


def noun(model: type[Any]) -> str:
    """Return the model name in lower-case words (`BlogPost` → `blog post`)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", model.__name__).lower()


def _python_type(column: Any) -> Any:
    sql_type = column.type
    if isinstance(sql_type, UTCDateTime):
        # A naive value would be refused on write: a 422 rather than a 500.
        return AwareDatetime
    if isinstance(sql_type, DateTime):
        # PostgreSQL's driver refuses an offset for a column without time zone (a 500),
        # and converting it would guess what the naive values mean: a 422. A column with
        # time zone takes aware values only, in UTC: SQLite and MariaDB drop the offset.
        return UTC_DATETIME if sql_type.timezone else NaiveDatetime
    if isinstance(sql_type, Time):
        # Without time zone, the offset would be dropped without a word; with it, SQLite
        # and MariaDB drop it too, so the time is stored in UTC, as `DateTime` values are.
        return UTC_TIME if sql_type.timezone else NAIVE_TIME
    if isinstance(sql_type, Interval):
        # The document says `format: duration`: ISO 8601, not seconds.
        return DURATION
    if isinstance(sql_type, Enum) and sql_type.enum_class is None:
        # `Mapped[Literal["a", "b"]]` or `Enum("a", "b")`: only these values are stored
        # (any other is a driver error, a 500).
        return Literal[tuple(sql_type.enums)]
    try:
        return column.type.python_type
    except NotImplementedError:
        return Any


def _bounds(sql_type: Any) -> tuple[int, int] | None:
    # An out-of-range integer is a driver error (a 500) on PostgreSQL and MySQL: refuse it
    # with a 422 instead, at the width the type has there (`Integer` is 32 bits).
    if not isinstance(sql_type, Integer):
        return None
    bits = (
        64 if isinstance(sql_type, BigInteger) else 16 if isinstance(sql_type, SmallInteger) else 32
    )
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _digits(sql_type: Any) -> tuple[int, int] | None:
    # `Float` is a `Numeric` whose precision counts bits: no decimal digits to check.
    if not isinstance(sql_type, Numeric) or isinstance(sql_type, Float):
        return None
    if sql_type.precision is None:
        return None
    return sql_type.precision, sql_type.scale or 0


def _column_field(model: type[Any], key: str, column: Any) -> ColumnField:
    table = column.table
    generated_key = column.primary_key and (
        column is table.autoincrement_column
        or column.default is not None
        or column.server_default is not None
    )
    timestamp = issubclass(model, Timestamps) and key in ("created_at", "updated_at")
    on_update = column.onupdate is not None or column.server_onupdate is not None
    # SQLAlchemy counts the version: a client writing it could roll it back and make a
    # stale `If-Match` pass again.
    version = column is sa_inspect(model).version_id_col
    default = UNSET
    if column.default is not None and column.default.is_scalar:
        default = column.default.arg
    # `Enum` is a `String` underneath, but its values are enum members, not strings.
    text = isinstance(column.type, String) and not isinstance(column.type, Enum)
    length = column.type.length if text else None
    return ColumnField(
        name=key,
        python_type=_python_type(column),
        nullable=bool(column.nullable) and not column.primary_key,
        has_default=column.default is not None or column.server_default is not None,
        default=default,
        max_length=length,
        bounds=_bounds(column.type),
        digits=_digits(column.type),
        primary_key=bool(column.primary_key),
        generated=bool(generated_key or timestamp or on_update or version),
        # A Python default wins on insert: then `PUT` treats the column by that one.
        server_default=server_default(column) if column.default is None else None,
        json=isinstance(column.type, JSON),
    )


def model_columns(model: type[Any]) -> dict[str, ColumnField]:
    """Return the single-column attributes of `model` by attribute name, in mapping order."""
    mapper = sa_inspect(model)
    result = {}
    for attr in mapper.column_attrs:
        if len(attr.columns) == 1:
            result[attr.key] = _column_field(model, attr.key, attr.columns[0])
    return result


def _hide_default(schema: dict[str, Any]) -> None:
    # A field left out keeps its value or gets the database default: its Python default
    # `None` is not a value the schema allows, or not what the row gets, so it is not
    # documented.
    schema.pop("default", None)


def _input_field(column: ColumnField, *, partial: bool) -> tuple[Any, Any]:
    constraints = column.constraints()
    required = not partial and not column.nullable and not column.has_default
    if required:
        return column.annotation(), Field(**constraints)
    if column.nullable and (partial or column.server_default is None):
        default = None if partial or column.default is UNSET else column.default
        return column.annotation(), Field(default, **constraints)
    if column.default is not UNSET and not partial:
        return column.annotation(), Field(column.default, **constraints)
    return column.annotation(), Field(None, json_schema_extra=_hide_default, **constraints)


_READ_TYPES = {id(UTC_DATETIME): UTC_READ, id(UTC_TIME): UTC_TIME_READ}
"""The output type of an input type that SQLite and MariaDB read back without its offset."""


def _read_field(column: ColumnField) -> tuple[Any, Any]:
    read = _READ_TYPES.get(id(column.python_type))
    if read is not None:
        return Optional[read] if column.nullable else read, Field(...)  # noqa: UP045 - a runtime type
    return column.annotation(), Field(...)


def check_fields(model: type[Any], names: Collection[str], option: str) -> None:
    """Raise `ConfigurationError` when a name in option `option` is not a column of `model`."""
    columns = model_columns(model)
    unknown = sorted(set(names) - columns.keys())
    if unknown:
        raise ConfigurationError(
            f"crud_router({model.__name__}): {option} names {unknown}, which are not columns "
            f"of {model.__name__}; columns: {', '.join(columns)}",
            "crud-unknown-field",
        )


def hidden_required(
    model: type[Any], exclude: Collection[str], read_only: Collection[str]
) -> list[str]:
    """Return the excluded or read-only columns an insert needs (not nullable, no default)."""
    columns = model_columns(model)
    return [
        name
        for name in sorted(set(exclude) | set(read_only))
        if name in columns
        and not columns[name].nullable
        and not columns[name].has_default
        and not columns[name].generated
    ]


def hidden_required_error(model: type[Any], name: str) -> ConfigurationError:
    """Return the error of a hidden column `name` that no create could fill in."""
    return ConfigurationError(
        f"crud_router({model.__name__}): {name!r} is excluded or read-only but "
        "required on insert (not nullable, no default), so no row could be created; "
        "give the column a default, make it nullable, return it from a row_filter, "
        "leave out the 'create' action or pass your own create_schema",
        "crud-hidden-required",
    )


def writable(
    model: type[Any], exclude: Collection[str], read_only: Collection[str]
) -> list[ColumnField]:
    """Return the columns a client may write on create."""
    columns = model_columns(model)
    hidden = set(exclude) | set(read_only)
    return [c for c in columns.values() if c.name not in hidden and not c.generated]


def build_schemas(
    model: type[Any],
    exclude: Collection[str],
    read_only: Collection[str],
    custom: dict[str, type[BaseModel] | None],
    creates: bool = True,
) -> CRUDSchemas:
    """Generate the schemas of `model` (or take the `custom` ones given).

    `creates` tells whether rows are created through the API from the body alone: then
    no column the client cannot write may be required on insert.
    """
    check_fields(model, exclude, "exclude")
    check_fields(model, read_only, "read_only")
    columns = model_columns(model)
    name = model.__name__
    inputs = writable(model, exclude, read_only)
    if custom.get("create") is None and creates:
        missing = hidden_required(model, exclude, read_only)
        if missing:
            raise hidden_required_error(model, missing[0])
    create = custom.get("create") or create_model(  # type: ignore[call-overload]
        f"{name}Create",
        __config__=_INPUT,
        **{c.name: _input_field(c, partial=False) for c in inputs},
    )
    non_key = [c for c in inputs if not c.primary_key]
    replace = custom.get("create")
    if replace is None:
        replace = (
            create
            if len(non_key) == len(inputs)
            else create_model(  # type: ignore[call-overload]
                f"{name}Replace",
                __config__=_INPUT,
                **{c.name: _input_field(c, partial=False) for c in non_key},
            )
        )
    update = custom.get("update") or create_model(  # type: ignore[call-overload]
        f"{name}Update",
        __config__=_INPUT,
        **{c.name: _input_field(c, partial=True) for c in non_key},
    )
    read = custom.get("read") or create_model(  # type: ignore[call-overload]
        f"{name}Read",
        __config__=_READ,
        **{c.name: _read_field(c) for c in columns.values() if c.name not in set(exclude)},
    )
    page = create_model(
        f"{name}Page",
        items=(list[read], ...),  # type: ignore[valid-type]
        total=(int, ...),
        page=(int, ...),
        size=(int, ...),
        pages=(int, ...),
    )
    return CRUDSchemas(create=create, replace=replace, update=update, read=read, page=page)


def reset_values(schema: type[BaseModel], model: type[Any]) -> dict[str, Any]:
    """Return what `PUT` sets for each field of `schema` the client leaves out.

    A field with a plain default gets it back; one with a server default gets that
    again (the database evaluates it, as on insert); else a nullable field becomes
    `None`, and a field with a computed default keeps its current value.
    """
    columns = model_columns(model)
    result: dict[str, Any] = {}
    for name in schema.model_fields:
        column = columns.get(name)
        if column is None:
            continue
        if column.default is not UNSET:
            result[name] = column.default
        elif column.server_default is not None:
            result[name] = column.server_default
        elif column.nullable:
            result[name] = None
    return result
