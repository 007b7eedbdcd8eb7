"""Parameter models: one pydantic model gathering several query, header, cookie or form values.

`filters: Annotated[Filters, Query()]` reads every field of `Filters` from the query
string. A handler may take several such models, and plain parameters beside them, in
the same source; each model is validated on its own, against everything the request
sent in its source:

- a field is read under its alias (headers: with `_` turned into `-` unless the marker
  says `convert_underscores=False`); a list field takes every repeated value;
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
    key: str
    """The key the model validates (the field's alias or name)."""
    wire: str
    """The name read from the request (a header's `-` form)."""
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
                alias = info.alias or name
                wire = alias.replace("_", "-") if header and convert and alias == name else alias
                if all(k.key != alias for k in self.keys):
                    self.keys.append(_Key(alias, wire.lower() if header else wire, _seq(info)))
        self.own = frozenset(k.wire for k in self.keys)
        self.header_names = {k.key: k.wire for k in self.keys if k.key != k.wire}
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
        for key in self.keys:
            used.add(key.wire)
            if key.wire in mapping:
                sent = True
            value = _value(mapping, getlist, key.wire, key.sequence, self.form)
            if value is not None:
                data[key.key] = value
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
                _keep_to_the_model(found, {key.key for key in self.keys})
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
