"""Refuse, at start-up, a parameter constraint that cannot apply to the parameter's type.

pydantic accepts any constraint on any type when a schema is built, and checks one it
has no rule for (`max_length` on an `int`, `gt` on a `str`) by calling `len()` or `>`
on the value at validation time: a `TypeError`, so every request would answer 500.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any
from typing import get_origin

from trivium.errors import ConfigurationError
from trivium.params._markers import Param

__all__ = ["check_constraints"]

_ORDER = frozenset({"gt", "ge", "lt", "le"})
_NUMBER = _ORDER | {"multiple_of", "allow_inf_nan"}
_LENGTH = frozenset({"min_length", "max_length"})
_TEXT = _LENGTH | {"pattern"}
_DECIMAL = _NUMBER | {"max_digits", "decimal_places"}
_VALUE_CONSTRAINTS = _DECIMAL | _TEXT
"""The constraints that apply to some types only (not `strict` or `discriminator`)."""


@functools.cache
def _constraint_table() -> dict[Any, frozenset[str]]:
    """Return the value constraints pydantic applies to each type it knows."""
    import datetime
    import decimal
    import uuid

    from trivium.http._upload import UploadFile

    return {
        str: _TEXT,
        bytes: _TEXT,
        bool: _NUMBER,
        int: _NUMBER,
        float: _NUMBER,
        decimal.Decimal: _DECIMAL,
        datetime.datetime: _ORDER,
        datetime.date: _ORDER,
        datetime.time: _ORDER,
        datetime.timedelta: _ORDER | {"multiple_of"},
        uuid.UUID: frozenset(),
        UploadFile: frozenset(),
        list: _LENGTH,
        tuple: _LENGTH,
        set: _LENGTH,
        frozenset: _LENGTH,
        dict: _LENGTH,
    }


def check_constraints(marker: Param, members: tuple[Any, ...], name: str, owner: str) -> None:
    """Refuse a constraint that cannot apply to the parameter's type (`int` and `max_length`).

    `members` are the types of the annotation's union, `None` left out. Only the types
    of `_constraint_table` are checked: a union of several types, an enum or a class of
    the app's own is left to pydantic.

    Raises:
        ConfigurationError: the constraint does not apply (`param-constraint-type`).
    """
    from trivium.http._upload import UploadFile

    if len(members) != 1:
        return
    kind = get_origin(members[0]) or members[0]
    if inspect.isclass(kind) and issubclass(kind, UploadFile):
        kind = UploadFile
    applies = _constraint_table().get(kind)
    if applies is None:
        return
    for constraint in marker.constraints:
        if constraint in _VALUE_CONSTRAINTS and constraint not in applies:
            if kind is UploadFile:
                hint = "limit the size of uploads with Limits(form=FormLimits(max_file_size=...))"
            elif applies:
                hint = f"{kind.__name__} takes {', '.join(sorted(applies))}"
            else:
                hint = f"{kind.__name__} takes no value constraints"
            raise ConfigurationError(
                f"{constraint} does not apply to {kind.__name__} parameter {name!r} "
                f"({type(marker).__name__}() of {owner}); {hint}",
                "param-constraint-type",
            )
