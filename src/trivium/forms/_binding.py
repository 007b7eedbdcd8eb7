"""Turn submitted form data into model input, and pydantic errors into messages for people.

HTML forms differ from JSON in ways the binding smooths over: an unticked checkbox is
not sent at all (read as `False`), an empty text box is sent as `""` (read as "not
given", so a required field says "This field is required."), a multiple select sends one
key per selected value, and an empty file input sends a part with no file name. A
choice's text is read back as the choice, and a date-time's as the value it showed
(see `trivium.forms._text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import NamedTuple

from pydantic import ValidationError

from trivium.forms._fields import FieldSpec
from trivium.forms._text import read_clock
from trivium.forms._text import value_text
from trivium.http import UploadFile

__all__ = ["Collected", "collect", "display_value", "error_message", "split_errors"]

_MESSAGES = {
    "missing": "This field is required.",
    "int_parsing": "Enter a whole number.",
    "int_from_float": "Enter a whole number.",
    "float_parsing": "Enter a number.",
    "decimal_parsing": "Enter a number.",
    "bool_parsing": "Enter yes or no.",
    "date_parsing": "Enter a valid date.",
    "date_from_datetime_parsing": "Enter a valid date.",
    "datetime_parsing": "Enter a valid date and time.",
    "datetime_from_date_parsing": "Enter a valid date and time.",
    "time_parsing": "Enter a valid time.",
    "enum": "Select a valid choice.",
    "literal_error": "Select a valid choice.",
    "is_instance_of": "Upload a file.",
}
_PREFIXES = ("Value error, ", "Assertion failed, ")


def _getlist(data: Any, key: str) -> list[Any]:
    getlist = getattr(data, "getlist", None)
    if getlist is not None:
        return list(getlist(key))
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]


def _get(data: Any, key: str) -> Any:
    value = data.get(key)
    if isinstance(value, (list, tuple)):
        # A plain dict built from repeated keys: the last value wins, as MultiDict.get does.
        return value[-1] if value else None
    return value


def _is_empty_upload(value: Any) -> bool:
    return isinstance(value, UploadFile) and not value.filename and value.size == 0


class Collected(NamedTuple):
    """What `collect` reads from submitted data."""

    inputs: dict[str, Any]
    """The model input, by input name."""
    kept: dict[str, Any]
    """The values to show on redisplay, by field name."""
    initials: dict[str, str]
    """The exact initial values sent along with date-time inputs, by field name."""


def collect(specs: tuple[FieldSpec, ...], data: Mapping[str, Any]) -> Collected:
    """Return the model input read from `data`, and what to show on redisplay."""
    found = Collected({}, {}, {})
    inputs, kept = found.inputs, found.kept
    for spec in specs:
        key = _sent_name(spec, data)
        if spec.multiple:
            items = [v for v in _getlist(data, key) if not _is_empty_upload(v) and v != ""]
            if items:
                lookup = spec.choice_lookup
                inputs[key] = [_choice(lookup, v) for v in items] if lookup else items
            if spec.widget.keep_value:
                kept[spec.name] = [str(v) for v in items]
            continue
        value = _get(data, key)
        if spec.is_bool:
            inputs[key] = False if value is None or value == "" else value
            kept[spec.name] = value is not None and value != "" and _truthy(value)
            continue
        initial = _initial(spec, data)
        if initial is not None and spec.widget.keep_value:
            found.initials[spec.name] = initial
        if value is None or _is_empty_upload(value):
            continue
        if isinstance(value, str):
            if spec.widget.keep_value:
                kept[spec.name] = value
            text = value.strip() if spec.widget.strip else value
            if text == "":
                if not spec.required and spec.nullable:
                    inputs[key] = None
                continue
            value = _read_text(spec, text, initial)
        inputs[key] = value
    return found


def _sent_name(spec: FieldSpec, data: Mapping[str, Any]) -> str:
    """The name the field was sent under: the first of its names in `data`, or the drawn one."""
    names = spec.input_names
    if len(names) > 1:
        for name in names:
            if name in data:
                return name
    return spec.html_name


def _initial(spec: FieldSpec, data: Mapping[str, Any]) -> str | None:
    if spec.initial_name is None:
        return None
    initial = _get(data, spec.initial_name)
    return initial if isinstance(initial, str) and initial else None


def _choice(lookup: Mapping[str, Any], value: Any) -> Any:
    return lookup.get(value, value) if isinstance(value, str) else value


def _read_text(spec: FieldSpec, text: str, initial: str | None) -> Any:
    if spec.choice_lookup:
        return spec.choice_lookup.get(text, text)
    if spec.clock is not None:
        return read_clock(spec.clock, spec.aware, text, initial)
    return text


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "on", "true", "t", "y", "yes")


def error_message(error: Mapping[str, Any]) -> str:
    """Return a message for one pydantic error, written for the person filling the form."""
    message = _MESSAGES.get(error["type"])
    if message is not None:
        return message
    text = str(error["msg"])
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if text and text[-1] not in ".!?":
        text += "."
    return text[:1].upper() + text[1:]


def split_errors(
    specs: tuple[FieldSpec, ...], exc: ValidationError
) -> tuple[dict[str, list[str]], list[str]]:
    """Sort the errors of `exc` into per-field messages and form-wide ones."""
    by_key = {key: spec.name for spec in specs for key in (*spec.input_names, spec.name)}
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        name = by_key.get(str(loc[0])) if loc else None
        message = error_message(error)
        target = general if name is None else fields.setdefault(name, [])
        if message not in target:
            target.append(message)
    return fields, general


def display_value(spec: FieldSpec, value: Any) -> Any:
    """Return how a Python value (an initial value) is shown in the field's widget."""
    if spec.is_bool:
        return bool(value)
    if spec.multiple:
        return [value_text(v) for v in value or ()]
    if value is None or spec.is_file or not spec.widget.keep_value:
        return None
    return value_text(value)
