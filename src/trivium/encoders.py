"""`jsonable_encoder`: turn any value a handler might hold into plain JSON-compatible data.

Pydantic models, dataclasses, enums, dates, UUIDs, decimals, paths, sets and generators
become dicts, lists, strings and numbers, as FastAPI's function of the same name does,
so code that stores or compares encoded data ports unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import ipaddress
import pathlib
import re
import types
import uuid
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

__all__ = ["jsonable_encoder"]

_BY_TYPE: dict[type, Callable[[Any], Any]] = {
    datetime.datetime: datetime.datetime.isoformat,
    datetime.date: datetime.date.isoformat,
    datetime.time: datetime.time.isoformat,
    datetime.timedelta: datetime.timedelta.total_seconds,
    uuid.UUID: str,
    bytes: lambda b: b.decode(),
    pathlib.PurePath: str,
    re.Pattern: lambda p: p.pattern,
    ipaddress.IPv4Address: str,
    ipaddress.IPv6Address: str,
    ipaddress.IPv4Network: str,
    ipaddress.IPv6Network: str,
    ipaddress.IPv4Interface: str,
    ipaddress.IPv6Interface: str,
}


def _decimal(value: decimal.Decimal) -> int | float:
    exponent = value.as_tuple().exponent
    return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)


def jsonable_encoder(  # noqa: PLR0913, C901 - FastAPI's signature; one branch per kind of value
    obj: Any,
    include: Any = None,
    exclude: Any = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: Mapping[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    """Return `obj` as data `json.dumps` accepts (dicts, lists, str, int, float, bool, None).

    Args:
        obj: the value to encode.
        include: only these keys of a model or dict (a set, or pydantic's nested mapping).
        exclude: leave these keys out.
        by_alias: dump models by field alias.
        exclude_unset: leave out model fields never set.
        exclude_defaults: leave out model fields equal to their default.
        exclude_none: leave out `None` values.
        custom_encoder: functions by type, tried before the built-in rules.
        sqlalchemy_safe: skip `_sa_*` keys of mappings (SQLAlchemy's instance state).
    """
    options = {
        "by_alias": by_alias,
        "exclude_unset": exclude_unset,
        "exclude_defaults": exclude_defaults,
        "exclude_none": exclude_none,
        "custom_encoder": custom_encoder,
        "sqlalchemy_safe": sqlalchemy_safe,
    }
    if custom_encoder:
        for kind, encode in custom_encoder.items():
            if isinstance(obj, kind):
                return encode(obj)
    from pydantic import BaseModel

    if isinstance(obj, BaseModel):
        data = obj.model_dump(
            mode="json",
            include=include,
            exclude=exclude,
            by_alias=by_alias,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )
        return jsonable_encoder(data, **options)  # type: ignore[arg-type]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        data = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return jsonable_encoder(data, include, exclude, **options)  # type: ignore[arg-type]
    if isinstance(obj, enum.Enum):
        return jsonable_encoder(obj.value, **options)  # type: ignore[arg-type]
    if obj is None or isinstance(obj, (str, int, float)):
        return obj
    if isinstance(obj, Mapping):
        return {
            jsonable_encoder(key, **options): jsonable_encoder(value, **options)  # type: ignore[arg-type]
            for key, value in obj.items()
            if (include is None or key in include)
            and (exclude is None or key not in exclude)
            and (value is not None or not exclude_none)
            and not (sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa"))
        }
    if isinstance(obj, (list, tuple, set, frozenset, types.GeneratorType)):
        return [jsonable_encoder(item, include, exclude, **options) for item in obj]  # type: ignore[arg-type]
    if isinstance(obj, decimal.Decimal):
        return _decimal(obj)
    for kind in type(obj).__mro__:
        by_type = _BY_TYPE.get(kind)
        if by_type is not None:
            return by_type(obj)
    return _fallback(obj, include, exclude, options)


def _fallback(obj: Any, include: Any, exclude: Any, options: dict[str, Any]) -> Any:
    """Encode what pydantic knows, else an object's attributes, else its `str`."""
    from pydantic_core import PydanticSerializationError
    from pydantic_core import to_jsonable_python

    try:
        return to_jsonable_python(obj)
    except PydanticSerializationError:
        pass
    try:
        data = dict(obj)
    except (TypeError, ValueError):
        try:
            data = vars(obj)
        except TypeError:
            return str(obj)
    return jsonable_encoder(data, include, exclude, **options)
