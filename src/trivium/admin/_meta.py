"""What the admin reads from a SQLAlchemy mapping: columns, keys, relations, form schemas.

Everything here is computed once per registered model at start-up. The form schema is
a pydantic model built from the editable columns (types, lengths, integer ranges,
nullability), so the add and change pages validate with `trivium.forms` exactly as a
hand-written form would; foreign keys are plain key fields in it, drawn by the admin's
own widgets (a short select, or an autocomplete for big tables).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import math
import re
from collections.abc import Callable
from collections.abc import Collection
from typing import Annotated
from typing import Any
from typing import Literal
from typing import Optional

from pydantic import AfterValidator
from pydantic import AwareDatetime
from pydantic import BaseModel
from pydantic import BeforeValidator
from pydantic import Field
from pydantic import create_model
from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import Enum
from sqlalchemy import Float
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import Numeric
from sqlalchemy import SmallInteger
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import inspect as sa_inspect

from trivium.errors import ConfigurationError
from trivium.forms import Choices
from trivium.forms import PasswordInput
from trivium.forms import Textarea
from trivium.forms import empty

__all__ = [
    "ColumnInfo",
    "ModelMeta",
    "RelationInfo",
    "form_ready",
    "form_schema",
    "json_text",
    "model_meta",
    "verbose",
]

_NO_NUL = r"^[^\x00]*$"


def verbose(name: str) -> str:
    """Return a readable label: `BlogPost` → `blog post`, `author_id` → `author id`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ")
    return spaced.strip().lower()


@dataclasses.dataclass(frozen=True, slots=True)
class ColumnInfo:
    """One mapped column of a model."""

    name: str
    column: Any
    python_type: Any
    nullable: bool
    has_default: bool
    default: Any
    primary_key: bool
    generated: bool
    """Filled in by the database or SQLAlchemy (generated keys, timestamps, versions)."""
    max_length: int | None
    bounds: tuple[int, int] | None
    target: type[Any] | None
    """The model a foreign key column points at (through a many-to-one relationship)."""
    relation: str | None
    """The many-to-one relationship that uses this column, if any."""

    @property
    def value_type(self) -> Any:
        """The type a key or filter value is parsed to: an integer column's within its range.

        A value out of the column's range is refused there, as a malformed one is, instead
        of reaching the driver (an `OverflowError`, PostgreSQL's "out of range").
        """
        if self.python_type is decimal.Decimal and isinstance(self.column.type, Numeric):
            # Checked as the form checks it: a finite number the column can hold.
            return Annotated[decimal.Decimal, Field(allow_inf_nan=False), *_decimal_bounds(self)]
        if self.bounds is None or self.python_type is not int:
            return self.python_type
        low, high = self.bounds
        return Annotated[int, Field(ge=low, le=high)]

    @property
    def is_bool(self) -> bool:
        """Whether the column holds booleans."""
        return isinstance(self.column.type, Boolean)

    @property
    def is_json(self) -> bool:
        """Whether the column holds JSON (edited as JSON text)."""
        return isinstance(self.column.type, JSON)

    @property
    def enum_class(self) -> type[enum.Enum] | None:
        """The Python enum of an `Enum` column, if any."""
        if isinstance(self.column.type, Enum):
            return self.column.type.enum_class
        return None

    @property
    def choices(self) -> tuple[tuple[Any, str], ...]:
        """The allowed values with labels: enum members, or `info={"choices": ...}`."""
        declared = self.column.info.get("choices")
        if declared:
            items = declared.items() if isinstance(declared, dict) else declared
            return tuple((value, str(label)) for value, label in items)
        enum_class = self.enum_class
        if enum_class is not None:
            return tuple((member, verbose(member.name)) for member in enum_class)
        if isinstance(self.column.type, Enum):
            return tuple((value, value) for value in self.column.type.enums)
        return ()

    @property
    def is_date(self) -> bool:
        """Whether the column holds dates or date-times."""
        return self.python_type in (datetime.date, datetime.datetime, AwareDatetime)


@dataclasses.dataclass(frozen=True, slots=True)
class RelationInfo:
    """One relationship of a model."""

    name: str
    target: type[Any]
    kind: str
    """`"many-to-one"`, `"one-to-many"` or `"many-to-many"`."""
    local_columns: tuple[str, ...]
    """For many-to-one: the foreign key attributes on this model."""


@dataclasses.dataclass(frozen=True, slots=True)
class ModelMeta:
    """The admin's view of one model's mapping."""

    model: type[Any]
    pk: ColumnInfo
    columns: dict[str, ColumnInfo]
    relations: dict[str, RelationInfo]
    versioned: bool

    def column(self, name: str) -> ColumnInfo | None:
        """Return the column `name`, or `None`."""
        return self.columns.get(name)


def _python_type(column: Any) -> Any:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return str
    if python_type is datetime.datetime and getattr(column.type, "timezone", False):
        return AwareDatetime
    if type(column.type).__name__ == "UTCDateTime":
        return AwareDatetime
    return python_type


def _bounds(sql_type: Any) -> tuple[int, int] | None:
    if not isinstance(sql_type, Integer):
        return None
    bits = (
        64 if isinstance(sql_type, BigInteger) else 16 if isinstance(sql_type, SmallInteger) else 32
    )
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _column_info(
    model: type[Any], key: str, column: Any, fk: dict[str, tuple[str, Any]]
) -> ColumnInfo:
    table = column.table
    generated_key = column.primary_key and (
        column is table.autoincrement_column
        or column.default is not None
        or column.server_default is not None
    )
    on_update = column.onupdate is not None or column.server_onupdate is not None
    version_col = getattr(model.__mapper__, "version_id_col", None)
    timestamp = key in ("created_at", "updated_at") and (
        column.default is not None or column.server_default is not None
    )
    default: Any = None
    if column.default is not None and column.default.is_scalar:
        default = column.default.arg
    text = isinstance(column.type, String) and not isinstance(column.type, Enum)
    relation, target = fk.get(key, (None, None))
    return ColumnInfo(
        name=key,
        column=column,
        python_type=_python_type(column),
        nullable=bool(column.nullable) and not column.primary_key,
        has_default=column.default is not None or column.server_default is not None,
        default=default,
        primary_key=bool(column.primary_key),
        generated=bool(generated_key or on_update or timestamp or column is version_col),
        max_length=column.type.length if text else None,
        bounds=_bounds(column.type),
        target=target,
        relation=relation,
    )


def _relations(model: type[Any]) -> tuple[dict[str, RelationInfo], dict[str, tuple[str, Any]]]:
    mapper = sa_inspect(model)
    relations: dict[str, RelationInfo] = {}
    fk_columns: dict[str, tuple[str, Any]] = {}
    for rel in mapper.relationships:
        target = rel.mapper.class_
        if rel.secondary is not None:
            kind = "many-to-many"
        elif rel.direction.name == "MANYTOONE":
            kind = "many-to-one"
        else:
            kind = "one-to-many"
        local: tuple[str, ...] = ()
        if kind == "many-to-one":
            local = tuple(mapper.get_property_by_column(column).key for column in rel.local_columns)
            if len(local) == 1:
                fk_columns.setdefault(local[0], (rel.key, target))
        relations[rel.key] = RelationInfo(rel.key, target, kind, local)
    return relations, fk_columns


def model_meta(model: type[Any]) -> ModelMeta:
    """Read `model`'s mapping.

    Raises:
        ConfigurationError: the model is not mapped, or its primary key has several
            columns (`admin-model`).
    """
    try:
        mapper = sa_inspect(model)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several kinds here
        raise ConfigurationError(
            f"admin.register({model!r}): not a mapped SQLAlchemy model ({exc})", "admin-model"
        ) from None
    if len(mapper.primary_key) != 1:
        raise ConfigurationError(
            f"admin.register({model.__name__}): the admin needs a single-column primary "
            f"key; {model.__name__} has {len(mapper.primary_key)}",
            "admin-model",
        )
    relations, fk_columns = _relations(model)
    columns: dict[str, ColumnInfo] = {}
    for attr in mapper.column_attrs:
        if len(attr.columns) == 1:
            columns[attr.key] = _column_info(model, attr.key, attr.columns[0], fk_columns)
    pk_key = mapper.get_property_by_column(mapper.primary_key[0]).key
    versioned = getattr(mapper, "version_id_col", None) is not None
    return ModelMeta(model, columns[pk_key], columns, relations, versioned)


@dataclasses.dataclass(frozen=True, slots=True)
class _Step:
    """The `step` of a number input (the form reads `multiple_of`; pydantic ignores it)."""

    multiple_of: decimal.Decimal


def _decimal_check(precision: int, scale: int) -> Callable[[decimal.Decimal], decimal.Decimal]:
    """Refuse decimals the column cannot hold (Django's messages), instead of a 500."""

    def check(value: decimal.Decimal) -> decimal.Decimal:
        exponent = value.normalize().as_tuple().exponent
        digits = len(value.normalize().as_tuple().digits) if value else 1
        if not isinstance(exponent, int):
            raise ValueError("Enter a number.")
        decimals = max(-exponent, 0)
        total = max(digits + max(exponent, 0), decimals)
        if total > precision:
            raise ValueError(f"Ensure that there are no more than {precision} digits in total.")
        if decimals > scale:
            raise ValueError(f"Ensure that there are no more than {scale} decimal places.")
        if total - decimals > precision - scale:
            raise ValueError(
                f"Ensure that there are no more than {precision - scale} digits before the "
                "decimal point."
            )
        return value

    return check


_DECIMAL_EXPONENT = 1000
"""The largest power of ten of a decimal compared with a column of unbounded `Numeric`."""


def _magnitude_check(value: decimal.Decimal) -> decimal.Decimal:
    if value and abs(value.adjusted()) > _DECIMAL_EXPONENT:
        raise ValueError("Enter a number of a sensible size.")
    return value


def _decimal_bounds(info: ColumnInfo) -> list[Any]:
    """The checks of a value compared with a `Numeric` column (a filter, a page cursor)."""
    checks = _decimal_metadata(info)
    return checks[:1] if checks else [AfterValidator(_magnitude_check)]


def _decimal_metadata(info: ColumnInfo) -> list[Any]:
    sql_type = info.column.type
    precision = getattr(sql_type, "precision", None)
    if info.python_type is not decimal.Decimal or not isinstance(sql_type, Numeric):
        return []
    if isinstance(sql_type, Float) or precision is None:
        return []
    scale = sql_type.scale or 0
    step = decimal.Decimal(1).scaleb(-scale)
    return [AfterValidator(_decimal_check(precision, scale)), _Step(step)]


def json_text(value: Any) -> str | None:
    """Return a JSON column's value as the text its textarea shows (`None` for NULL)."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Enter valid JSON ({name} is not a JSON number).")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"Enter valid JSON ({text[:20]} is too large a number).")
    return number


def _no_nul(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("Enter valid JSON (it may not contain the character U+0000).")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _no_nul(item)
    elif isinstance(value, list):
        for item in value:
            _no_nul(item)


def _parse_json(value: Any) -> Any:
    """Read the JSON text of a textarea (other values, as a default, pass unchanged)."""
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value, parse_constant=_refuse_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Enter valid JSON ({exc.msg} at line {exc.lineno}).") from None
    except RecursionError:
        raise ValueError("Enter valid JSON (it is nested too deeply).") from None
    _no_nul(parsed)
    return parsed


_NULL_BOOLEAN = Choices({True: "Yes", False: "No"})


def form_ready(info: ColumnInfo) -> bool:
    """Whether one form input can edit the column (else the admin shows it read-only).

    Binary columns and those of several values (a PostgreSQL `ARRAY`) cannot be typed
    into one input and back without changing them.
    """
    if isinstance(info.column.type, LargeBinary) or info.python_type in (bytes, bytearray):
        return False
    probe = create_model("Probe", value=_field(info, required=False))
    try:
        empty(probe)
    except ConfigurationError:
        return False
    return True


def _field(info: ColumnInfo, required: bool) -> tuple[Any, Any]:
    if info.is_json:
        return _json_field(info, required)
    python_type = info.python_type
    if python_type is AwareDatetime:
        python_type = datetime.datetime  # a datetime-local input sends no offset: UTC
    constraints: dict[str, Any] = {}
    metadata: list[Any] = []
    if python_type is str:
        constraints["pattern"] = _NO_NUL
        if info.max_length is not None:
            constraints["max_length"] = info.max_length
        if isinstance(info.column.type, Text) or info.max_length is None:
            metadata.append(Textarea(rows=4))
    if info.bounds is not None and info.target is None:
        constraints["ge"], constraints["le"] = info.bounds
    metadata += _decimal_metadata(info)
    if info.enum_class is not None:
        python_type = info.enum_class
    if python_type is bool and info.nullable:
        # Three states, as Django's NullBooleanField: unknown (NULL), yes, no.
        python_type = Literal[True, False]
        metadata.append(_NULL_BOOLEAN)
    annotation: Any = Annotated[python_type, *metadata] if metadata else python_type
    if info.nullable:
        annotation = Optional[annotation]  # noqa: UP045 - a runtime type
    title = verbose(info.relation or info.name)
    description = info.column.doc or info.column.comment
    if required:
        return annotation, Field(title=title, description=description, **constraints)
    default = info.default if info.default is not None and not callable(info.default) else None
    if default is None and not info.nullable and python_type is bool:
        default = False
    return annotation, Field(default, title=title, description=description, **constraints)


def _json_field(info: ColumnInfo, required: bool) -> tuple[Any, Any]:
    annotation: Any = Annotated[Any, BeforeValidator(_parse_json), Textarea(rows=6)]
    if info.nullable:
        annotation = Optional[annotation]  # noqa: UP045 - a runtime type
    title = verbose(info.name)
    description = info.column.doc or info.column.comment or "JSON text."
    if required:
        return annotation, Field(title=title, description=description)
    default = info.default if info.default is not None and not callable(info.default) else None
    return annotation, Field(
        json_text(default), title=title, description=description, validate_default=True
    )


def _password_field(info: ColumnInfo, *, adding: bool) -> tuple[Any, Any]:
    # The stored hash is never shown: an empty password input, required on the add page,
    # and left empty on the change page to keep the current password.
    title = verbose(info.name)
    annotation: Any = Annotated[str, PasswordInput()]
    if adding:
        return annotation, Field(title=title, min_length=1, pattern=_NO_NUL)
    description = "Leave empty to keep the current password."
    field = Field(None, title=title, description=description, pattern=_NO_NUL)
    return Optional[annotation], field  # noqa: UP045 - a runtime type


def form_schema(
    meta: ModelMeta, names: list[str], *, adding: bool, passwords: Collection[str] = ()
) -> type[BaseModel]:
    """Return the pydantic model of the form editing `names` (editable columns).

    The columns in `passwords` are password inputs that never show the stored value.
    """
    fields: dict[str, Any] = {}
    for name in names:
        info = meta.columns[name]
        if name in passwords:
            fields[name] = _password_field(info, adding=adding)
            continue
        required = not info.nullable and info.python_type is not bool and not info.has_default
        fields[name] = _field(info, required)
    suffix = "Add" if adding else "Change"
    return create_model(f"{meta.model.__name__}{suffix}Form", **fields)
