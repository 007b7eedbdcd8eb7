"""Start-up checks of option names: a misspelled option must not be silently ignored.

A `ModelAdmin` or inline subclass may hold its own helpers (display methods, constants),
so only a public attribute that is not an option but is close to one (`list_dispaly`,
`extras`) is refused, naming the option meant. A string where a sequence of names is
expected (`list_display = "name"`) is refused too: Python would iterate its letters.
"""

from __future__ import annotations

import difflib
from typing import Any

from trivium.errors import ConfigurationError

__all__ = ["check_option_names"]


def _own_names(options: type[Any], base: type[Any]) -> set[str]:
    names: set[str] = set()
    for klass in options.__mro__:
        if klass is base or issubclass(base, klass):
            break
        names.update(n for n in vars(klass) if not n.startswith("_"))
    return names


def check_option_names(
    options: type[Any], base: type[Any], sequences: tuple[str, ...], where: str
) -> None:
    """Refuse near-misses of `base`'s option names and strings given for `sequences`.

    Raises:
        ConfigurationError: an attribute of `options` is a misspelled option, or a
            sequence option is a string (`admin-option`).
    """
    known = {n for n in dir(base) if not n.startswith("_")}
    hooks = sorted(n for n in known if callable(getattr(base, n)))
    values = sorted(known - set(hooks))
    for name in sorted(_own_names(options, base) - known):
        candidates = hooks if callable(getattr(options, name)) else values
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
        if close:
            raise ConfigurationError(
                f"{where}: {options.__name__}.{name} is not an admin option; did you mean "
                f"{close[0]!r}?",
                "admin-option",
            )
    for name in sequences:
        value = getattr(options, name, None)
        if isinstance(value, str):
            raise ConfigurationError(
                f"{where}: {options.__name__}.{name} = {value!r}: give a tuple of names, not a "
                f"string, e.g. {name} = ({value!r},)",
                "admin-option",
            )
