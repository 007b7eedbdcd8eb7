"""What the cache writes for a value, and the default keys of `@cached` calls.

A value is kept as JSON, and must read back as itself: `encode` refuses what orjson
would write but the cache could not give back (a tuple comes back a list, a datetime
or a UUID a string, a dataclass a dict, NaN `null`). The default key of a call is its
function's name and a hash of its arguments as JSON, where a tuple or a datetime is
fine: it only has to tell calls apart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import weakref
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import orjson

__all__ = ["cache_key_of", "default_name", "encode"]


def encode(value: Any) -> bytes:
    """Return `value` as JSON, refusing what would not read back as itself.

    Raises:
        TypeError: `value` holds something other than dicts with string keys, lists,
            strings, numbers, booleans and `None` (a tuple, a datetime, a UUID, a
            dataclass: orjson would write them, and they would come back as lists,
            strings or dicts).
        ValueError: it holds NaN or Infinity, which JSON writes as `null`.
    """
    _check_json(value)
    return orjson.dumps(value)


_JSON_SCALARS = frozenset({str, int, bool, type(None)})
_DEPTH = 254  # as deep as orjson nests (which refuses a list holding itself)


def _check_json(value: Any, depth: int = 0) -> None:
    """Raise unless `value` is made of JSON's types only (exactly: no subclasses)."""
    kind = type(value)
    if kind is dict:
        for name in value:
            if type(name) is not str:
                raise TypeError(f"the cache keeps dicts with string keys, not the key {name!r}")
        items: Iterable[Any] = value.values()
    elif kind is list:
        items = value
    else:
        _check_scalar(value)
        return
    if depth >= _DEPTH:
        raise TypeError(f"the cache keeps JSON values nested {_DEPTH} deep at most")
    for item in items:
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is float and item - item == 0:  # finite: NaN and Infinity give NaN
            continue
        _check_json(item, depth + 1)


def _check_scalar(value: Any) -> None:
    kind = type(value)
    if kind is float:
        if not math.isfinite(value):
            raise ValueError(
                f"the cache keeps JSON values; NaN and Infinity are not ones ({value!r})"
            )
    elif kind not in _JSON_SCALARS:
        raise TypeError(
            f"the cache keeps JSON values (dicts, lists, strings, numbers, booleans, "
            f"None), which read back as themselves; {kind.__qualname__} {value!r} would "
            f"not: convert it first (a tuple to a list, a datetime to its isoformat(), "
            f"a dataclass or model to a dict)"
        )


def _key_json(value: Any) -> bytes:
    """Return the arguments of a call as JSON, to hash (tuples, datetimes allowed).

    Raises:
        TypeError: JSON cannot encode them (a set, bytes, an object).
        ValueError: they hold NaN or Infinity, which JSON writes as `null`.
    """
    data = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    # orjson writes a non-finite float as `null`: look for one only when there is a null.
    if b"null" in data and not _finite(value):
        raise ValueError(f"NaN and Infinity are not JSON values (in {value!r})")
    return data


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(_finite(getattr(value, field.name)) for field in dataclasses.fields(value))
    return True


def cache_key_of(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Return the default key of a call: the function's name and a hash of its arguments.

    Raises:
        TypeError: an argument is not a JSON value, so equal calls can't be told apart
            from others (give `@cached` a `key=`).
    """
    try:
        data = _key_json([list(args), sorted(kwargs.items())])
    except (TypeError, ValueError) as exc:
        name = getattr(func, "__qualname__", repr(func))
        raise TypeError(
            f"@cached {name}: the default key hashes the arguments as JSON, and {exc}; "
            f'pass key= (a template such as key="item:{{item.id}}" or a function of the '
            f"arguments) to say which of their values select the entry"
        ) from None
    digest = hashlib.sha256(data).hexdigest()[:32]
    return f"{default_name(func)}:{digest}"


_definitions: dict[str, int] = {}  # how many functions of each `<locals>` name were cached
_local_names: weakref.WeakKeyDictionary[Callable[..., Any], str] = weakref.WeakKeyDictionary()


def default_name(func: Callable[..., Any]) -> str:
    """Return what the default keys of `func`'s calls start with (called when decorating).

    Its module and qualified name; but a function defined inside another (`<locals>` in
    its name, made by a factory or a closure) shares that name with every other function
    the same code defines, which may capture other values: each of them is numbered, in
    the order they are decorated (`make.<locals>.price#1`). The first keeps the bare name,
    and every process numbers them alike when it defines them in the same order.
    """
    name = f"{func.__module__}.{func.__qualname__}"
    if "<locals>" not in name:
        return name
    known = _local_names.get(func)
    if known is None:
        count = _definitions.get(name, 0)
        _definitions[name] = count + 1
        known = _local_names[func] = f"{name}#{count}" if count else name
    return known
