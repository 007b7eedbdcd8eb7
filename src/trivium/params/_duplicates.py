"""One request parameter declared in several places: the handler and its dependencies.

As in FastAPI, every declaration is validated on its own against the same raw value and
gets its own default: `limit: int = 10` in one dependency and `limit: Annotated[int,
Query(le=100)] = 20` in another both read `?limit=`. Identical declarations share one
field (validated once). A later declaration that differs becomes a *shadow*: a field of
its own in the validated data, under a key no client name can take (the name, NUL, a
number), that reads the wire name through a pydantic `validation_alias`, so its errors
carry the usual `loc` and routes without duplicates pay nothing.
"""

from __future__ import annotations

import typing
from typing import Any

from trivium.errors import ConfigurationError
from trivium.params._markers import ParamSource
from trivium.params._secret import _unwrap as _secret

if typing.TYPE_CHECKING:
    from trivium.params._analysis import FieldSpec

__all__ = ["place_duplicate", "secret_wire_names", "strip_secret_inputs"]

_BYTES = (bytes, bytes | None, list[bytes], list[bytes] | None)
"""File parameter types that read the upload into bytes (see `_plan._file_value`)."""


def place_duplicate(
    first: FieldSpec, spec: FieldSpec, shadows: list[FieldSpec], owner: str
) -> tuple[str, str]:
    """Return the validated-data key of `spec`, a parameter `first` already declares.

    An identical declaration reuses the field; another is appended to `shadows`.

    Raises:
        ConfigurationError: the two declarations would read the raw value differently
            (a list and a single value, an upload and its bytes): `param-conflict`.
    """
    for known in (first, *(s for s in shadows if s.section == first.section)):
        if known.name == spec.name and _same(known, spec):
            return (known.section, known.key)
    if first.is_sequence != spec.is_sequence or (
        spec.source is ParamSource.FILE
        and (first.annotation in _BYTES) != (spec.annotation in _BYTES)
    ):
        raise ConfigurationError(
            f"{spec.source.value} parameter {spec.python_name!r} of {owner} is declared "
            f"twice with different types ({first.annotation!r} and {spec.annotation!r}) "
            "that read the request differently: rename one, or declare them the same",
            "param-conflict",
        )
    spec.key = f"{spec.name}\0{len(shadows) + 1}"
    shadows.append(spec)
    return (spec.section, spec.key)


def _same(a: FieldSpec, b: FieldSpec) -> bool:
    """Tell whether two declarations validate alike (docs such as `title` may differ)."""
    return (
        a.source is b.source
        and a.is_model == b.is_model
        and _equal(a.annotation, b.annotation)
        and _equal(a.marker.constraints, b.marker.constraints)
        and a.marker.default_factory is b.marker.default_factory
        and type(a.default) is type(b.default)
        and _equal(a.default, b.default)
    )


def _equal(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - a value that can't be compared is not the same
        return False


def secret_wire_names(fields: list[FieldSpec]) -> frozenset[tuple[str, str]]:
    """Return the `(section, name)` of the shadowed parameters any declaration keeps secret.

    Errors name the wire name, not the declaration: the same raw value is secret for all.
    """
    shadowed = {(f.section, f.name) for f in fields if f.key != f.name}
    return frozenset(
        (f.section, f.name)
        for f in fields
        if (f.section, f.name) in shadowed and _secret(f.annotation)[1]
    )


def strip_secret_inputs(
    errors: list[dict[str, Any]], names: frozenset[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Drop the `input` of errors about `names` (see `secret_wire_names`), in place."""
    for error in errors:
        if tuple(error["loc"][:2]) in names and error["type"] != "missing":
            error.pop("input", None)
    return errors
