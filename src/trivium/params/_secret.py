"""Secret fields: values a 422 answer must never echo back (passwords, keys, tokens).

A validation error normally carries the `input` that failed, which helps a client fix
its request. For a password that means sending the password back, where proxies, logs
and browser tools may keep it. A field is secret when its type is pydantic's `SecretStr`
or `SecretBytes` (or another `pydantic.Secret`) or when it is marked with
`Annotated[str, Secret()]`; its errors then carry no `input`, and an `input` that holds
it (a whole body with a missing field, say) has it removed.

The type is walked only when an error is reported, so valid requests pay nothing.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import typing_extensions as tx

__all__ = ["Secret", "redact_secret_inputs"]

_MISSING = object()
_WRAPPERS = {typing.Required, typing.NotRequired, tx.Required, tx.NotRequired}


@dataclasses.dataclass(frozen=True, slots=True)
class Secret:
    """Mark a field as secret: `password: Annotated[str, Secret()]`.

    The value validates as usual (any constraints still apply); only error reports
    change: a 422 never includes the value of a secret field.
    """


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Strip `Annotated`, `Required`/`NotRequired`; return the type and whether it is secret."""
    secret = False
    while True:
        origin = tx.get_origin(annotation)
        if origin is tx.Annotated:
            args = tx.get_args(annotation)
            secret = secret or any(isinstance(m, Secret) for m in args[1:])
            annotation = args[0]
        elif origin in _WRAPPERS:
            annotation = tx.get_args(annotation)[0]
        else:
            break
    if tx.get_origin(annotation) in (typing.Union, types.UnionType):
        # `SecretStr | None`: secret when any member is.
        secret = secret or any(_unwrap(member)[1] for member in tx.get_args(annotation))
    return annotation, secret or _is_secret_type(annotation)


def _is_secret_type(annotation: Any) -> bool:
    try:
        from pydantic import Secret as PydanticSecret
        from pydantic import SecretBytes
        from pydantic import SecretStr
    except ImportError:  # pragma: no cover - pydantic is a core dependency
        return False
    if isinstance(annotation, type):
        return issubclass(annotation, (SecretStr, SecretBytes, PydanticSecret))
    origin = tx.get_origin(annotation)
    return isinstance(origin, type) and issubclass(origin, PydanticSecret)


def _fields(annotation: Any) -> Mapping[str, Any] | None:
    """Return the field types of a model, dataclass or TypedDict (by name and alias)."""
    model_fields = getattr(annotation, "model_fields", None)
    if isinstance(model_fields, Mapping):
        found: dict[str, Any] = {}
        for name, info in model_fields.items():
            # pydantic keeps the markers it does not know (ours) in `metadata`.
            secret = any(isinstance(m, Secret) for m in info.metadata)
            found[name] = typing.Annotated[info.annotation, Secret()] if secret else info.annotation
            if info.alias:
                found[info.alias] = found[name]
        return found
    if tx.is_typeddict(annotation) or dataclasses.is_dataclass(annotation):
        try:
            return tx.get_type_hints(annotation, include_extras=True)
        except (NameError, TypeError):
            return None
    return None


def _child(annotation: Any, key: Any) -> tuple[Any, bool] | None:
    """Return the type found under `key` in a value of type `annotation`, and its secrecy."""
    annotation, _ = _unwrap(annotation)
    origin = tx.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for member in tx.get_args(annotation):
            found = _child(member, key)
            if found is not None:
                return found
        return None
    if isinstance(key, str):
        fields = _fields(annotation)
        if fields is not None and key in fields:
            return _unwrap(fields[key])
        if origin is not None and issubclass_safe(origin, Mapping):
            args = tx.get_args(annotation)
            return _unwrap(args[1]) if len(args) == 2 else None
        return None
    if origin is not None and issubclass_safe(origin, Sequence):
        args = tx.get_args(annotation)
        return _unwrap(args[0]) if args else None
    return None


def issubclass_safe(value: Any, base: type) -> bool:
    """Return `issubclass(value, base)`, false for non-classes."""
    return isinstance(value, type) and issubclass(value, base)


def _redact_value(value: Any, annotation: Any) -> Any:
    """Return `value` without the secret fields that `annotation` declares in it."""
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            child = _child(annotation, key)
            if child is None:
                out[key] = item
            elif not child[1]:
                out[key] = _redact_value(item, child[0])
        return out
    if isinstance(value, list):
        child = _child(annotation, 0)
        if child is None:
            return value
        if child[1]:
            return []
        return [_redact_value(item, child[0]) for item in value]
    return value


def redact_secret_inputs(errors: list[dict[str, Any]], annotation: Any) -> list[dict[str, Any]]:
    """Drop or trim the `input` of errors about secret fields, in place; return `errors`.

    Args:
        errors: pydantic-style error dicts whose `loc` starts at a value of `annotation`.
        annotation: the type that was validated (a model, a TypedDict, a dataclass...).
    """
    for error in errors:
        value = error.get("input", _MISSING)
        if value is _MISSING:
            continue
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "missing":
            # A missing field's input is the object that lacks it.
            loc = loc[:-1]
        current, secret = _unwrap(annotation)
        for key in loc:
            child = _child(current, key)
            if child is None:
                current = None
                break
            current, secret = child
            if secret:
                break
        if secret:
            del error["input"]
        elif current is not None and isinstance(value, (Mapping, list)):
            error["input"] = _redact_value(value, current)
    return errors
