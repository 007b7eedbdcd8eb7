"""A legacy user table's primary key: the session's id text as a value of its column.

Flask-Login (`_user_id`) and Django (`_auth_user_id`) keep the user's id as text in the
session. The lookup compares it with the key column, and a driver such as asyncpg
refuses a text parameter for an integer column and an integer for a text one: a
Flask-Login user whose `get_id()` is `"1001"` must be looked up as `"1001"` in a
`VARCHAR` key and as `1001` in an `INTEGER` one. So the column's type is read from
the legacy database (once, at the first login read) and decides the conversion; text
that can't be a value of the column (`"abc"` for an integer key) is no user at all.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import inspect

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from trivium.db import Database

__all__ = ["LegacyKey"]

_INTEGER = re.compile(r"-?[0-9]{1,19}")

Converter = Callable[[str], Any]


class LegacyKey:
    """The key column of a legacy user table, read on first use.

    Args:
        db: the legacy database.
        table: the user table's name.
        column: its key column (what the legacy session stores as text).
    """

    __slots__ = ("_convert", "column", "db", "table")

    def __init__(self, db: Database, table: str, column: str) -> None:
        self.db = db
        self.table = table
        self.column = column
        self._convert: Converter | None = None

    async def value(self, text: object) -> Any:
        """Return `text` as a value of the key column, or `None` when it can't be one."""
        convert = self._convert
        if convert is None:
            async with self.db.engine.connect() as connection:
                convert = await connection.run_sync(self._reflect)
            self._convert = convert
        return convert(str(text))

    def _reflect(self, connection: Connection) -> Converter:
        for described in inspect(connection).get_columns(self.table):
            if described["name"] == self.column:
                try:
                    kind = described["type"].python_type
                except NotImplementedError:  # a type without a Python twin: compare as text
                    return str
                if issubclass(kind, int) and kind is not bool:
                    return _as_int
                if issubclass(kind, uuid.UUID):
                    return _as_uuid
                return str
        return str  # no such column: the lookup itself reports it


def _as_int(text: str) -> int | None:
    return int(text) if _INTEGER.fullmatch(text) else None


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
