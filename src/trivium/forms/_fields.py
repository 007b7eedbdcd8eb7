"""Read a pydantic model's fields into form fields: widget, label, choices, HTML constraints.

Done once per model class (cached): the type of each field picks its widget (`bool` is a
checkbox, `date` a date picker, an `Enum` or `Literal` a select, `list[...]` of those a
multiple select, `UploadFile` a file input...) and its constraints become the HTML
attributes a browser checks before sending (`maxlength`, `min`, `max`, `step`). What the
binding needs is decided here too: the choice each submitted text stands for, and
whether a date-time field must be aware (see `trivium.forms._text`).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import inspect
import types
import typing
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Annotated
from typing import Any
from typing import Literal
from typing import get_args
from typing import get_origin

import annotated_types
from pydantic import AliasChoices
from pydantic import AliasPath
from pydantic import AwareDatetime
from pydantic import BaseModel
from pydantic import FutureDate
from pydantic import FutureDatetime
from pydantic import NaiveDatetime
from pydantic import PastDate
from pydantic import PastDatetime
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_core import core_schema

from trivium.errors import ConfigurationError
from trivium.forms._text import INITIAL_PREFIX
from trivium.forms._text import Clock
from trivium.forms._text import choice_lookup
from trivium.forms._text import value_text
from trivium.forms._widgets import WIDGETS
from trivium.forms._widgets import CheckboxInput
from trivium.forms._widgets import DateInput
from trivium.forms._widgets import DateTimeInput
from trivium.forms._widgets import EmailInput
from trivium.forms._widgets import FileInput
from trivium.forms._widgets import NumberInput
from trivium.forms._widgets import PasswordInput
from trivium.forms._widgets import Select
from trivium.forms._widgets import SelectMultiple
from trivium.forms._widgets import TextInput
from trivium.forms._widgets import TimeInput
from trivium.forms._widgets import URLInput
from trivium.forms._widgets import Widget
from trivium.http import UploadFile

if typing.TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler

__all__ = ["Choices", "FieldSpec", "form_fields"]

_SEQUENCES = (list, set, frozenset, tuple)
_DATETIMES = (datetime.datetime, AwareDatetime, NaiveDatetime, PastDatetime, FutureDatetime)
_DATES = (datetime.date, PastDate, FutureDate)


class Choices:
    """Restrict a field to a fixed set of choices and draw it as a select.

    Example:
        ```python
        class Order(Form):
            size: Annotated[str, Choices({"s": "Small", "m": "Medium", "l": "Large"})]
            extras: Annotated[list[str], Choices(["cheese", "ham"])] = []
        ```
    """

    __slots__ = ("options",)

    def __init__(self, options: Mapping[Any, str] | Iterable[Any]) -> None:
        """Accept `{value: label}`, `[(value, label), ...]` or `[value, ...]`."""
        if isinstance(options, Mapping):
            pairs = list(options.items())
        else:
            pairs = [o if isinstance(o, tuple) else (o, str(o)) for o in options]
        self.options: tuple[tuple[Any, str], ...] = tuple((v, str(label)) for v, label in pairs)
        """The `(value, label)` pairs, in order."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Check the value (or each value of a list) is one of the choices."""
        allowed = {v for v, _ in self.options} | {str(v) for v, _ in self.options}

        def check(value: Any) -> Any:
            items = value if isinstance(value, _SEQUENCES) else (value,)
            for item in items:
                if item in allowed or (isinstance(item, enum.Enum) and item.value in allowed):
                    continue
                raise ValueError("Select a valid choice")
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))


@dataclasses.dataclass(frozen=True, slots=True)
class FieldSpec:
    """One form field, as read from the model."""

    name: str
    """The model attribute."""
    html_name: str
    """The name of the input: the field's validation alias (or alias) when it has one."""
    label: str
    help_text: str | None
    required: bool
    widget: Widget
    choices: tuple[tuple[Any, str], ...]
    multiple: bool
    is_bool: bool
    is_file: bool
    nullable: bool
    constraints: dict[str, Any]
    info: FieldInfo
    options: tuple[tuple[str, str], ...] = ()
    """The choices as drawn: `(text of the value, label)` pairs."""
    choice_lookup: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The `Enum` member or `Literal` value each submitted text stands for."""
    clock: Clock | None = None
    """`datetime` or `time` for a field drawn as a date-time or time input."""
    aware: bool = False
    """Whether the field's type requires an aware date-time (`AwareDatetime`)."""
    initial_name: str | None = None
    """The hidden input carrying a date-time's exact initial value (see `_text`)."""
    input_names: tuple[str, ...] = ()
    """Every name the field is read under, `html_name` first: each of an `AliasChoices`,
    and the field's own name when the model validates by name too."""

    def initial(self) -> Any:
        """Return the field's default, as an unbound form shows it (`None` when required)."""
        info = self.info
        if info.default_factory is None:
            return None if info.default is PydanticUndefined else info.default
        if getattr(info, "default_factory_takes_validated_data", False):
            return None
        return info.get_default(call_default_factory=True)


@functools.cache
def form_fields(model: type[BaseModel]) -> tuple[FieldSpec, ...]:
    """Return the form fields of `model`, in declaration order (computed once per class).

    Raises:
        ConfigurationError: a field has a type no HTML input can carry.
    """
    return tuple(_spec(model, name, info) for name, info in model.model_fields.items())


def _spec(model: type[BaseModel], name: str, info: FieldInfo) -> FieldSpec:
    annotation = info.annotation
    members = _union_members(annotation)
    nullable = len(members) != len(_flat_union(annotation))
    base, nested = _unwrap(members[0]) if len(members) == 1 else (str, ())
    metadata = [*info.metadata, *_expand(nested)]
    multiple = (get_origin(base) or base) in _SEQUENCES
    item = _unwrap(get_args(base)[0])[0] if multiple and get_args(base) else base
    if multiple and not get_args(base):
        item = str
    is_file = inspect.isclass(item) and issubclass(item, UploadFile)
    choices = _choices(item, metadata)
    if multiple and not choices and not is_file:
        raise ConfigurationError(
            f"form field {model.__name__}.{name} is a list of {item!r} without choices; "
            "use a list of an Enum or Literal, or add Choices(...)",
            "form-field-unsupported",
        )
    if _structured(item):
        raise ConfigurationError(
            f"form field {model.__name__}.{name} is a {item!r}, which one HTML input cannot "
            "carry (a text box would never validate); give it its own fields, or a str "
            "field you parse yourself",
            "form-field-unsupported",
        )
    widget = _explicit_widget(info, metadata) or _default_widget(item, multiple, choices)
    is_bool = item is bool and not multiple
    clock = None if multiple else _clock(item)
    input_names = _input_names(model, name, info)
    html_name = input_names[0]
    return FieldSpec(
        name=name,
        html_name=html_name,
        label=info.title or name.replace("_", " ").capitalize(),
        help_text=info.description,
        required=info.is_required(),
        widget=widget,
        choices=choices,
        multiple=multiple,
        is_bool=is_bool,
        is_file=is_file,
        nullable=nullable,
        # A list of choices is its own constraint: `step`, `min` or `maxlength` on a
        # `<select>` or radio buttons is not HTML.
        constraints={} if multiple or choices else _constraints(item, metadata),
        info=info,
        options=tuple((value_text(value), label) for value, label in choices),
        choice_lookup=choice_lookup(item),
        clock=clock,
        aware=clock is not None and _aware(item, metadata),
        initial_name=None if clock is None else INITIAL_PREFIX + html_name,
        input_names=input_names,
    )


def _input_names(model: type[BaseModel], name: str, info: FieldInfo) -> tuple[str, ...]:
    """Return the names pydantic validates the field under, the one to draw first.

    The validation alias (set by `alias=` too) or each name of an `AliasChoices`; the
    field's name when the model validates by name (`populate_by_name`), or only it when
    the model does not validate by alias.

    Raises:
        ConfigurationError: the validation alias is a path into nested data.
    """
    config = model.model_config
    if config.get("validate_by_alias") is False:
        return (name,)
    alias = info.validation_alias
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias or info.alias or name]
    names = [found for choice in choices if (found := _alias_name(choice)) is not None]
    if not names:
        raise ConfigurationError(
            f"form field {model.__name__}.{name} has validation_alias {alias!r}, a path into "
            "nested data that no input name reaches; give it a plain alias "
            "(Field(validation_alias='name') or AliasChoices of names)",
            "form-field-unsupported",
        )
    if config.get("validate_by_name", config.get("populate_by_name", False)):
        names.append(name)
    return tuple(dict.fromkeys(names))


def _alias_name(choice: str | AliasPath) -> str | None:
    """The input name of one alias: itself, or the key of a one-step `AliasPath`."""
    if isinstance(choice, str):
        return choice
    path = choice.path
    return path[0] if len(path) == 1 and isinstance(path[0], str) else None


def _clock(item: Any) -> Clock | None:
    if not inspect.isclass(item):
        return None
    if issubclass(item, _DATETIMES):
        return datetime.datetime
    if issubclass(item, datetime.time):
        return datetime.time
    return None


def _aware(item: Any, metadata: list[Any]) -> bool:
    """Whether `item` (with `metadata`) is an aware date-time type, as `AwareDatetime`."""
    if item is AwareDatetime or AwareDatetime in metadata:
        return True
    return any(isinstance(m, annotated_types.Timezone) and m.tz is not None for m in metadata)


def _flat_union(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def _union_members(annotation: Any) -> tuple[Any, ...]:
    return tuple(a for a in _flat_union(annotation) if a is not type(None))


def _unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    metadata: tuple[Any, ...] = ()
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata += tuple(extra)
    return annotation, metadata


def _expand(metadata: tuple[Any, ...]) -> list[Any]:
    # `Annotated[int, Field(ge=0)] | None`: pydantic keeps the inner `Field(...)` whole,
    # its constraints (`Ge(0)`) inside; a field's own metadata has them flat.
    result: list[Any] = []
    for meta in metadata:
        if isinstance(meta, FieldInfo):
            result.extend(meta.metadata)
        else:
            result.append(meta)
    return result


def _structured(item: Any) -> bool:
    """Whether `item` is a mapping or a model: a value of several parts, not one input."""
    origin = get_origin(item) or item
    if not inspect.isclass(origin):
        return False
    return issubclass(origin, Mapping | BaseModel) or dataclasses.is_dataclass(origin)


def _choices(item: Any, metadata: list[Any]) -> tuple[tuple[Any, str], ...]:
    for meta in metadata:
        if isinstance(meta, Choices):
            return meta.options
    if inspect.isclass(item) and issubclass(item, enum.Enum):
        return tuple((member.value, _enum_label(member)) for member in item)
    if get_origin(item) is Literal:
        return tuple((value, str(value)) for value in get_args(item))
    return ()


def _enum_label(member: enum.Enum) -> str:
    label = getattr(member, "label", None)
    if isinstance(label, str):
        return label
    return member.name.replace("_", " ").capitalize()


def _explicit_widget(info: FieldInfo, metadata: list[Any]) -> Widget | None:
    for meta in metadata:
        if isinstance(meta, Widget):
            return meta
        if inspect.isclass(meta) and issubclass(meta, Widget):
            return meta()
    extra = info.json_schema_extra
    name = extra.get("widget") if isinstance(extra, dict) else None
    if name is None:
        return None
    widget_class = WIDGETS.get(str(name))
    if widget_class is None:
        raise ConfigurationError(
            f"unknown widget {name!r}; use one of {sorted(WIDGETS)} or a Widget instance "
            "in Annotated[...]",
            "form-widget-unknown",
        )
    return widget_class()


def _default_widget(item: Any, multiple: bool, choices: tuple[Any, ...]) -> Widget:
    from pydantic import AnyUrl
    from pydantic import EmailStr
    from pydantic import SecretStr

    if inspect.isclass(item) and issubclass(item, UploadFile):
        return FileInput()
    if choices:
        return SelectMultiple() if multiple else Select()
    checks: list[tuple[Any, type[Widget]]] = [
        (bool, CheckboxInput),
        (EmailStr, EmailInput),
        (SecretStr, PasswordInput),
        (AnyUrl, URLInput),
        ((int, float, decimal.Decimal), NumberInput),
        (_DATETIMES, DateTimeInput),
        (_DATES, DateInput),
        (datetime.time, TimeInput),
    ]
    for types_, widget_class in checks:
        if item is types_ or (inspect.isclass(item) and issubclass(item, types_)):
            return widget_class()
    return TextInput()


def _constraints(item: Any, metadata: list[Any]) -> dict[str, Any]:
    numeric = (
        inspect.isclass(item)
        and issubclass(item, (int, float, decimal.Decimal))
        and not issubclass(item, bool)
    )
    if numeric:
        return _number_constraints(issubclass(item, int), metadata)
    attrs: dict[str, Any] = {}
    for meta in metadata:
        for key in ("max_length", "min_length"):
            length = getattr(meta, key, None)
            if length is not None:
                attrs[key.replace("_", "")] = length
    return attrs


def _number_constraints(integer: bool, metadata: list[Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {"step": 1 if integer else "any"}
    bounds: dict[str, Any] = {}
    multiple_of = None
    for meta in metadata:
        for key in _BOUNDS:
            bound = getattr(meta, key, None)
            if bound is not None:
                bounds[key] = bound
        step = getattr(meta, "multiple_of", None)
        if step is not None:
            attrs["step"] = multiple_of = step
    for key, bound in bounds.items():
        attr, up = _BOUNDS[key]
        if multiple_of is not None:
            bound = _snap(bound, multiple_of, up=up, strict=key in ("gt", "lt"))
        elif integer and key in ("gt", "lt"):
            bound += 1 if up else -1
        attrs[attr] = bound
    return attrs


_BOUNDS = {"ge": ("min", True), "gt": ("min", True), "le": ("max", False), "lt": ("max", False)}
"""The HTML attribute of each bound, and whether it is a lower one (`min`)."""


def _snap(bound: Any, step: Any, *, up: bool, strict: bool) -> int | float:
    """Return the multiple of `step` nearest `bound` inside the range (`multiple_of`).

    A browser counts steps from `min`: `min="1" step="5"` would accept 6 and refuse 5,
    so `gt=0, multiple_of=5` draws `min="5"` (and `le=12`, `max="10"`).
    """
    exact_bound, exact_step = decimal.Decimal(str(bound)), decimal.Decimal(str(step))
    ratio = exact_bound / exact_step
    count = ratio.to_integral_value(decimal.ROUND_CEILING if up else decimal.ROUND_FLOOR)
    if strict and count == ratio:
        count += 1 if up else -1
    result = count * exact_step
    return int(result) if result == result.to_integral_value() else float(result)
