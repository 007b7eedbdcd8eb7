"""Parameter models: one pydantic model gathering several query, header, cookie or form values.

`filters: Annotated[Filters, Query()]` reads every field of `Filters` from the query
string. A handler may take several such models, and plain parameters beside them, in
the same source; each model is validated on its own, against everything the request
sent in its source:

- a field is read under its validation alias (or alias, or name; headers: a name with
  `_` turned into `-` unless the marker says `convert_underscores=False`), under the
  first sent of an `AliasChoices`, and under its name too when the model validates by
  name, as FastAPI reads them; a list field takes every repeated value;
- an empty form value is left out, so the field's default applies (as FastAPI does),
  except for a `trivium.forms.BoundForm` parameter, whose form reads empty boxes itself;
- the values nobody declared are handed over too, so `extra="forbid"` refuses them and
  `extra="allow"` keeps them;
- an optional model (`Filters | None`) is `None` when the request sent none of its
  fields; a union of form models (`Person | Company`, with a discriminator) is read as
  one of its members;
- errors are reported at `(source, field, ...)` (headers under their header name), with
  the model's input as `input` when a field is missing.

The model's validator runs only for routes that use one: plain parameters keep the
single compiled validator of the plan.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Mapping
from typing import Annotated
from typing import Any
from typing import get_args
from typing import get_origin

from pydantic import AliasChoices
from pydantic import AliasPath
from pydantic import BaseModel
from pydantic import Field
from pydantic import TypeAdapter
from pydantic import ValidationError

from trivium.params._analysis import FieldSpec
from trivium.params._analysis import _is_sequence
from trivium.params._markers import UNSET
from trivium.params._markers import Header
from trivium.params._markers import ParamSource
from trivium.params._secret import redact_secret_inputs

__all__ = ["ModelParam", "model_members"]


def model_members(annotation: Any) -> tuple[type[BaseModel], ...]:
    """Return the models a parameter model annotation names (`A`, `A | None`, `A | B`).

    An empty tuple means the annotation is not a parameter model.
    """
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    members: tuple[Any, ...] = (annotation,)
    if get_origin(annotation) in (typing.Union, types.UnionType):
        members = tuple(a for a in get_args(annotation) if a is not type(None))
    unwrapped = []
    for member in members:
        while get_origin(member) is Annotated:
            member = get_args(member)[0]
        if not (inspect.isclass(member) and issubclass(member, BaseModel)):
            return ()
        unwrapped.append(member)
    return tuple(unwrapped)


@dataclasses.dataclass(slots=True)
class _Key:
    names: tuple[tuple[str, str], ...]
    """`(key the model validates, name read from the request)` pairs, preferred first.

    The field's validation alias (or alias, or name), or each name of its
    `AliasChoices`; then its name when the model validates by name. The name read is a
    header's `-` form of a field's own name.
    """
    sequence: bool


class ModelParam:
    """One parameter model of a route, compiled at start-up."""

    __slots__ = (
        "adapter",
        "annotation",
        "default",
        "factory",
        "form",
        "header_names",
        "keep_empty",
        "key",
        "keys",
        "optional",
        "own",
        "private",
        "section",
        "takes_extras",
    )

    def __init__(self, spec: FieldSpec, *, echo_inputs: bool = False) -> None:
        members = model_members(spec.annotation)
        self.private = spec.section in ("cookie", "header") and not echo_inputs
        """Whether a 422 keeps other cookies and headers out of `input` (not under
        `trivium.compat`'s FastAPI semantics, which echo them as FastAPI does)."""
        self.section = spec.section
        self.key = spec.key
        self.form = spec.source is ParamSource.FORM
        self.annotation = spec.annotation
        header = spec.source is ParamSource.HEADER
        convert = not isinstance(spec.marker, Header) or spec.marker.convert_underscores
        self.keys: list[_Key] = []
        for member in members:
            for name, info in member.model_fields.items():
                pairs = _names(member, name, info, header=header and convert)
                if header:
                    pairs = tuple((key, wire.lower()) for key, wire in pairs)
                if all(k.names[0][0] != pairs[0][0] for k in self.keys):
                    self.keys.append(_Key(pairs, _seq(info)))
        self.own = frozenset(wire for k in self.keys for _, wire in k.names)
        self.header_names = {key: wire for k in self.keys for key, wire in k.names if key != wire}
        # `BoundForm[Model]` (`trivium.forms._param.BINDS_FORM`): the form reads empty
        # boxes itself (an `X | None` field reads `None`).
        self.keep_empty = any(getattr(m, "__trivium_binds_form__", False) for m in members)
        self.takes_extras = any(m.model_config.get("extra") in ("allow", "forbid") for m in members)
        # `Model | None`: `None` (or the default) when the request sent nothing of it.
        self.optional = _allows_none(spec.annotation)
        self.default = spec.default
        self.factory = spec.marker.default_factory
        validated: Any = spec.annotation
        if spec.marker.constraints:  # a discriminator, say
            validated = Annotated[validated, Field(**spec.marker.constraints)]
        self.adapter: TypeAdapter[Any] = TypeAdapter(validated)

    def collect(self, mapping: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
        """Return the values for the model from `mapping`, and whether any field was sent."""
        data: dict[str, Any] = {}
        if mapping is None:
            return data, False
        getlist = getattr(mapping, "getlist", None)
        sent = False
        used = set()
        drop_empty = self.form and not self.keep_empty
        for field in self.keys:
            names = field.names
            key, wire = names[0]
            if len(names) > 1:  # the first name sent; unused ones may be extras
                key, wire = next((pair for pair in names if pair[1] in mapping), names[0])
            used.add(wire)
            if wire in mapping:
                sent = True
            value = _value(mapping, getlist, wire, field.sequence, drop_empty)
            if value is not None:
                data[key] = value
        for wire in mapping:
            if wire in used:
                continue
            values = getlist(wire) if getlist is not None else [mapping[wire]]
            data[wire] = values[0] if len(values) == 1 else values
        return data, sent or bool(self.takes_extras and data)

    def validate(
        self,
        mapping: Mapping[str, Any] | None,
        errors: list[dict[str, Any]],
        context: dict[str, Any] | None = None,
    ) -> Any:
        """Return the model's value, or `UNSET` after adding its errors to `errors`.

        `context` reaches the model's validators (`trivium.forms.BoundForm` reads the
        request from it).
        """
        data, sent = self.collect(mapping)
        if not sent and self.optional:
            if self.factory is not None:
                return self.factory()
            return None if self.default is UNSET else self.default
        try:
            return self.adapter.validate_python(data, context=context)
        except ValidationError as exc:
            from trivium.params._plan import validation_errors

            found = redact_secret_inputs(validation_errors(exc), self.annotation)
            if self.private:
                _keep_to_the_model(found, {key for k in self.keys for key, _ in k.names})
            for error in found:
                loc = tuple(error["loc"])
                if loc and loc[0] in self.header_names:
                    loc = (self.header_names[loc[0]], *loc[1:])
                error["loc"] = (self.section, *loc)
                errors.append(error)
            return UNSET


def _keep_to_the_model(errors: list[dict[str, Any]], declared: set[str]) -> None:
    """Echo no cookie or header the model does not declare (a session, `Authorization`).

    A model's missing field reports the model's whole input, which holds every cookie or
    header of the request; a refused extra one reports its value.
    """
    for error in errors:
        given = error.get("input")
        if isinstance(given, Mapping):
            error["input"] = {k: v for k, v in given.items() if k in declared}
        elif error.get("type") == "extra_forbidden":
            error["input"] = None


def _allows_none(annotation: Any) -> bool:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in get_args(
        annotation
    )


def _names(
    model: type[BaseModel], name: str, info: Any, *, header: bool
) -> tuple[tuple[str, str], ...]:
    """Return a field's `(validated key, name read)` pairs, as FastAPI reads them.

    `header`: a field's own name is read with `_` turned into `-`.
    """
    config = model.model_config
    wire_name = name.replace("_", "-") if header else name
    if config.get("validate_by_alias") is False:
        return ((name, wire_name),)
    alias = info.validation_alias
    key = alias if isinstance(alias, str) else info.alias or name
    pairs = [(key, wire_name if key == name else key)]
    if isinstance(alias, AliasPath) or (
        isinstance(alias, AliasChoices) and not all(isinstance(c, str) for c in alias.choices)
    ):
        return tuple(pairs)
    if isinstance(alias, AliasChoices):
        pairs = [(choice, choice) for choice in alias.choices if isinstance(choice, str)]
    by_name = config.get("validate_by_name", config.get("populate_by_name", False))
    if by_name and all(k != name for k, _ in pairs):
        pairs.append((name, wire_name))
    return tuple(pairs)


def _seq(info: Any) -> bool:
    return _is_sequence(info.annotation)


def _value(mapping: Any, getlist: Any, wire: str, sequence: bool, form: bool) -> Any:
    if sequence and getlist is not None:
        values = [v for v in getlist(wire) if not (form and _empty(v))]
        return values or None
    value = mapping.get(wire)
    if value is None or (form and _empty(value)):
        return None
    return [value] if sequence else value


def _empty(value: Any) -> bool:
    """An empty form field or file input: left out, so the field's default applies."""
    if isinstance(value, str):
        return value == ""
    return getattr(value, "filename", None) == "" and getattr(value, "size", 1) in (0, None)
