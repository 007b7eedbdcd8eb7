"""The text of values: what an input shows, and how the text it sends back is read.

Inputs carry text. A choice is drawn as the text of its value (an `Enum` member as its
value's), so the text a select sends back is mapped to the choice it was drawn from:
`"1"` is `1` for `Literal[1, 2]`, and `Colour.RED` for an enum whose `RED` is `1`.

A `datetime-local` or `time` input has no room for an offset and keeps at most
milliseconds. An aware value is shown converted to UTC, and a naive text read back for a
field whose type requires an aware value (`AwareDatetime`), or which showed an aware one,
is read as UTC (a value whose UTC time falls outside years 1 to 9999 is shown at its
own offset instead). A value the input cannot show whole (one with an offset, or with
sub-millisecond digits) also travels as ISO text in a hidden input,
`_initial_<name>`: when the input sends back the text it showed, the field gets that
exact value, so saving an edit page untouched changes nothing (not even the offset).
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import inspect
from typing import Any
from typing import Literal
from typing import get_args
from typing import get_origin

__all__ = [
    "INITIAL_PREFIX",
    "Clock",
    "choice_lookup",
    "initial_text",
    "read_clock",
    "shown",
    "value_text",
]

INITIAL_PREFIX = "_initial_"
"""The prefix of the hidden input carrying a date-time's exact initial value."""

Clock = type[datetime.datetime] | type[datetime.time]
"""The type of a field drawn as a `datetime-local` or `time` input."""

_ANY_DAY = datetime.date(2000, 1, 1)


def value_text(value: Any) -> str:
    """Return the text an input shows for `value` (an `Enum` member shows its value)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, datetime.datetime | datetime.time):
        return _clock_text(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if getattr(value, "get_secret_value", None) is not None:
        return ""
    return str(value)


def choice_lookup(item: Any) -> dict[str, Any]:
    """Return, for an `Enum` or `Literal` type, each member by the text it is drawn as.

    Empty for other types: their choices (`Choices(...)`) are checked against the text
    and the field's type converts it, as for any other input.
    """
    if inspect.isclass(item) and issubclass(item, enum.Enum):
        members: list[Any] = list(item)
    elif get_origin(item) is Literal:
        members = list(get_args(item))
    else:
        return {}
    lookup: dict[str, Any] = {}
    for member in members:
        # Two members drawn alike (`Literal[1, "1"]`) send the same text: the first wins.
        lookup.setdefault(value_text(member), member)
    return lookup


def shown(value: datetime.datetime | datetime.time) -> datetime.datetime | datetime.time:
    """Return `value` as its input shows it: naive (in UTC if aware), to the millisecond."""
    offset = value.utcoffset()
    if offset is not None:
        if isinstance(value, datetime.datetime):
            # A UTC time before year 1 or after 9999 cannot be: such a value is shown at
            # its own offset (the hidden input still carries it whole).
            with contextlib.suppress(OverflowError):
                value = value.astimezone(datetime.UTC)
        else:
            moment = datetime.datetime.combine(_ANY_DAY, value.replace(tzinfo=None))
            value = (moment - offset).time()
    return value.replace(tzinfo=None, microsecond=value.microsecond // 1000 * 1000)


def _clock_text(value: datetime.datetime | datetime.time) -> str:
    value = shown(value)
    if value.microsecond:
        return value.isoformat(timespec="milliseconds")
    return value.isoformat(timespec="seconds" if value.second else "minutes")


def initial_text(value: Any) -> str | None:
    """Return the ISO text of a date-time its input cannot show whole, else `None`."""
    if not isinstance(value, datetime.datetime | datetime.time):
        return None
    if value.tzinfo is None and value.microsecond % 1000 == 0:
        return None
    return value.isoformat()


def read_clock(clock: Clock, aware: bool, text: str, initial: str | None) -> Any:
    """Return the model input for `text` sent by a date-time (or time) input.

    Args:
        clock: `datetime.datetime` or `datetime.time`.
        aware: Whether the field's type requires an aware value.
        text: What the input sent (stripped, not empty).
        initial: The exact initial value sent along in the hidden input, if any.
    """
    typed = _parse(clock, text)
    if typed is None or typed.tzinfo is not None:
        return text  # not what an input sends: the model says what is wrong, if anything
    original = _parse(clock, initial) if initial else None
    if original is not None and typed == shown(original):
        return original
    if aware or (original is not None and original.tzinfo is not None):
        return typed.replace(tzinfo=datetime.UTC)
    return text


def _parse(clock: Clock, text: str) -> datetime.datetime | datetime.time | None:
    try:
        return clock.fromisoformat(text)
    except ValueError:
        return None
