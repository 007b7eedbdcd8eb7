"""`Session`: the mutable mapping a request sees as `request.session`.

It records what happened to it (`modified`, a rotated id, a flush) and the middleware
acts on that once, when the response starts: save only when something changed, delete
the old id after a rotation, expire the cookie when the session was emptied.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from collections.abc import MutableMapping
from typing import Any

__all__ = ["Session", "new_session_id"]


def new_session_id() -> str:
    """Return a fresh random session id (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


class Session(MutableMapping[str, Any]):
    """The data of one client's session; values must be JSON-serializable.

    Changing a key marks the session modified. Changing an object inside a value
    (`session["cart"].append(3)`) does not: assign the value again, or set
    `session.modified = True`.
    """

    __slots__ = ("_data", "_id", "expiry", "from_cookie", "is_new", "modified", "previous_ids")

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        id: str | None = None,
        expiry: int | None = None,
        from_cookie: bool = False,
    ) -> None:
        self._data: dict[str, Any] = dict(data) if data else {}
        self.from_cookie = from_cookie
        """Whether the request carried the session cookie (valid or not): the request is
        then cookie-authenticated, and unsafe methods need a CSRF token."""
        self.is_new = id is None
        """Whether the session was created by this request (no stored session was found)."""
        # A new session's id is drawn when first needed (to save it): most anonymous
        # requests never save theirs, and 32 bytes from the OS cost more than the rest
        # of the session's work.
        self._id = id
        self.modified = False
        """Whether the data changed and must be saved."""
        self.expiry = expiry
        """Seconds this session lives (`None`: the middleware's `max_age`; 0: browser session)."""
        self.previous_ids: list[str] = []
        """Ids this session had earlier in this request; deleted from the store on save."""

    @property
    def id(self) -> str:
        """The session id the cookie carries (signed); a new session's is drawn on first use."""
        if self._id is None:
            self._id = new_session_id()
        return self._id

    @id.setter
    def id(self, value: str) -> None:
        self._id = value

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __repr__(self) -> str:
        return f"Session(id={self.id[:6]}…, keys={sorted(self._data)!r})"

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value of `key`, or `default`."""
        return self._data.get(key, default)

    def clear(self) -> None:
        """Remove every key (the id stays; use `flush()` to log out)."""
        if self._data:
            self.modified = True
        self._data.clear()

    def to_dict(self) -> dict[str, Any]:
        """Return a copy of the data."""
        return dict(self._data)

    def rotate(self) -> None:
        """Give the session a new id and keep its data; the old id is deleted on save.

        Call it when the privilege level changes (login): an id planted before login by
        an attacker (session fixation) is then worthless.
        """
        self.previous_ids.append(self.id)
        self.id = new_session_id()
        self.modified = True

    def flush(self) -> None:
        """Remove all data and the id (logout); the stored session is deleted on save."""
        self._data.clear()
        self.rotate()
        self.expiry = None

    def set_expiry(self, seconds: int | None) -> None:
        """Make this session last `seconds` (0: until the browser closes; None: the default).

        Raises:
            ValueError: `seconds` is negative or not an integer.
        """
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0
        ):
            raise ValueError(f"session expiry must be seconds >= 0 or None, not {seconds!r}")
        self.expiry = seconds
        self.modified = True
