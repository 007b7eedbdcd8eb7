"""Flash messages: one-time notices with a level, kept in the session until shown.

A message flashed before a redirect is shown by the next page that asks for the flashed
messages. They live in `request.session["_flashes"]` as `[level, message]` pairs, which
any session backend can store as JSON. The first call to `get_flashed_messages` in a
request takes every message out of the session and keeps them on the request, so a layout
and a page can both ask without the second getting nothing; messages not shown are gone,
as in Flask.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal
from typing import overload

from trivium.http import HTTPConnection

__all__ = ["FLASH_LEVELS", "flash", "get_flashed_messages"]

FLASH_LEVELS = ("debug", "info", "success", "warning", "error")
"""The levels a flash message may have, least to most severe."""

SESSION_KEY = "_flashes"
"""Where the pending messages are kept in the session."""

_SCOPE_KEY = "trivium.flashes"


def flash(request: HTTPConnection, message: str, level: str = "info") -> None:
    """Store `message` in the session, to be shown on the next page that asks for it.

    Args:
        request: the current request (its session must be installed).
        message: the text to show; it is escaped when rendered.
        level: one of `FLASH_LEVELS`.

    Raises:
        ValueError: `level` is not one of `FLASH_LEVELS`.
        ConfigurationError: no session middleware runs in front of the route.
    """
    if level not in FLASH_LEVELS:
        raise ValueError(f"unknown flash level {level!r}; use one of {', '.join(FLASH_LEVELS)}")
    session = request.session
    pending = list(session.get(SESSION_KEY) or ())
    pending.append([level, str(message)])
    # Assign a new list rather than appending in place so that the session notices the change.
    session[SESSION_KEY] = pending


@overload
def get_flashed_messages(
    request: HTTPConnection,
    *,
    with_levels: Literal[False] = False,
    level_filter: Collection[str] = (),
) -> list[str]: ...


@overload
def get_flashed_messages(
    request: HTTPConnection,
    *,
    with_levels: Literal[True],
    level_filter: Collection[str] = (),
) -> list[tuple[str, str]]: ...


def get_flashed_messages(
    request: HTTPConnection,
    *,
    with_levels: bool = False,
    level_filter: Collection[str] = (),
) -> list[str] | list[tuple[str, str]]:
    """Return the flashed messages and take them out of the session.

    Args:
        request: the current request (its session must be installed).
        with_levels: return `(level, message)` pairs instead of messages.
        level_filter: only return messages of these levels (all when empty).

    Raises:
        ConfigurationError: no session middleware runs in front of the route.
    """
    messages = _take(request)
    if level_filter:
        messages = [item for item in messages if item[0] in level_filter]
    if with_levels:
        return messages
    return [message for _, message in messages]


def _take(request: HTTPConnection) -> list[tuple[str, str]]:
    cached: list[tuple[str, str]] | None = request.scope.get(_SCOPE_KEY)
    if cached is not None:
        return cached
    session = request.session
    stored = session.pop(SESSION_KEY, None) if SESSION_KEY in session else None
    messages: list[tuple[str, str]] = []
    if isinstance(stored, list):
        for item in stored:
            # A session written by other code (or an older release) must not break a page.
            if isinstance(item, (list, tuple)) and len(item) == 2:
                level, message = item
                if level in FLASH_LEVELS and isinstance(message, str):
                    messages.append((level, message))
    request.scope[_SCOPE_KEY] = messages
    return messages
