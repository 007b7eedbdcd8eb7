"""Turn a database integrity error into a 409 a client can act on.

Each backend words its errors differently, but thanks to `NAMING_CONVENTION` every
constraint has a predictable name, and PostgreSQL and MariaDB quote that name in the
error: finding it tells which columns clashed. SQLite names the columns of a unique
violation itself, and names nothing for a foreign-key one (the CRUD router then checks
the referenced rows to say which field points nowhere).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import ForeignKeyConstraint
from sqlalchemy import Index
from sqlalchemy import PrimaryKeyConstraint
from sqlalchemy import UniqueConstraint

from trivium.db._model import Model
from trivium.db._schemas import noun

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy import Table
    from sqlalchemy.exc import IntegrityError

    from trivium.http import Request
    from trivium.responses import JSONResponse

__all__ = ["Violation", "classify", "conflict_message", "integrity_error_handler"]

UNIQUE = "unique"
FOREIGN_KEY = "foreign_key"
NOT_NULL = "not_null"
OTHER = "other"


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    """What an integrity error says: its kind and, when known, the constraint behind it."""

    kind: str
    table: Table | None = None
    """The table that owns the constraint."""
    columns: tuple[str, ...] = ()
    """The constrained columns (as named in the database)."""
    constraint: Any = None
    """The SQLAlchemy constraint, when found by name."""


def _kind(text: str) -> str:
    if "foreign key" in text:
        return FOREIGN_KEY
    if "unique" in text or "duplicate" in text:
        return UNIQUE
    if "null" in text:
        return NOT_NULL
    return OTHER


def _named(table: Table) -> list[tuple[str, Any, tuple[str, ...]]]:
    """Return `(name, constraint, columns)` for the constraints an error may name."""
    found: list[tuple[str, Any, tuple[str, ...]]] = []
    for item in [*table.constraints, *table.indexes]:
        if isinstance(item, Index) and not item.unique:
            continue
        if not isinstance(
            item, Index | UniqueConstraint | ForeignKeyConstraint | PrimaryKeyConstraint
        ):
            continue  # a CHECK constraint
        name = item.name
        if isinstance(name, str) and name:
            found.append((name.lower(), item, tuple(c.name for c in item.columns)))
    return found


def _by_name(text: str, metadata: MetaData, kind: str) -> Violation | None:
    candidates = [
        (name, table, constraint, columns)
        for table in metadata.tables.values()
        for name, constraint, columns in _named(table)
        if isinstance(constraint, ForeignKeyConstraint) == (kind == FOREIGN_KEY)
    ]
    # The longest name first: `uq_t_a` is a prefix of `uq_t_a_b`.
    for name, table, constraint, columns in sorted(candidates, key=lambda c: -len(c[0])):
        if name in text:
            return Violation(kind, table, columns, constraint)
    return None


def _sqlite_unique(text: str, metadata: MetaData) -> Violation | None:
    # "UNIQUE constraint failed: articles.slug, articles.lang"
    _, _, names = text.partition("unique constraint failed:")
    pairs = [item.strip().partition(".") for item in names.split(",") if "." in item]
    if not pairs:
        return None
    table = metadata.tables.get(pairs[0][0])
    if table is None:
        return None
    return Violation(UNIQUE, table, tuple(column for _, _, column in pairs))


def classify(
    exc: IntegrityError, metadata: MetaData | None = None, table: Table | None = None
) -> Violation:
    """Tell what kind of constraint `exc` broke and, when the backend says, which one.

    `metadata` holds the tables whose constraint names are looked for (default: the
    metadata of `table`, else `Model.metadata`). `table` is the table written to, when
    known: MariaDB calls its primary key `PRIMARY`.
    """
    if metadata is None:
        metadata = table.metadata if table is not None else Model.metadata
    text = str(exc.orig).lower()
    kind = _kind(text)
    if kind in (UNIQUE, FOREIGN_KEY):
        found = _by_name(text, metadata, kind)
        if found is None and kind == UNIQUE:
            found = _sqlite_unique(text, metadata)
        if found is None and kind == UNIQUE and table is not None and "'primary'" in text:
            found = Violation(UNIQUE, table, tuple(c.name for c in table.primary_key.columns))
        if found is not None:
            return found
    return Violation(kind)


def table_noun(table: Table | None) -> str:
    """Return the model noun of `table` (`author`), or the table name when no model maps it."""
    if table is None:
        return "row"
    for mapper in Model.registry.mappers:
        if mapper.local_table is table:
            return noun(mapper.class_)
    return str(table.name)


def a_or_an(word: str) -> str:
    """Return `word` with its indefinite article (`an article`, `a book`)."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _columns(columns: tuple[str, ...]) -> str:
    return " and ".join(columns)


def conflict_message(violation: Violation, deleting: str | None = None) -> str:
    """Return a sentence telling the client what clashed.

    `deleting` names the row being deleted (`"Author 3"`): a foreign-key error then means
    other rows still refer to it.
    """
    kind = violation.kind
    if kind == UNIQUE:
        what = a_or_an(table_noun(violation.table))
        if violation.columns:
            return f"{what} with this {_columns(violation.columns)} already exists"
        return f"{what} with these values already exists"
    if kind == FOREIGN_KEY and deleting is not None:
        if violation.table is not None:
            return (
                f"{deleting} is still referenced by {table_noun(violation.table)} rows; "
                "delete or reassign them first"
            )
        return f"{deleting} is still referenced by other rows; delete or reassign them first"
    if kind == FOREIGN_KEY:
        constraint = violation.constraint
        if isinstance(constraint, ForeignKeyConstraint):
            target = table_noun(constraint.referred_table)
            return f"{_columns(violation.columns)} refers to a missing {target}"
        return "a reference points to a row that does not exist"
    if kind == NOT_NULL:
        return "a required value is missing (NOT NULL constraint)"
    return "the change conflicts with a database constraint"


def integrity_error_handler(request: Request, exc: IntegrityError) -> JSONResponse:
    """Answer an `IntegrityError` that escaped a handler with a 409 and a clear message.

    Install it app-wide with `app.add_exception_handler(IntegrityError, integrity_error_handler)`:
    a unique or foreign-key violation in any handler (or at the request's commit) then
    becomes `409 {"detail": "an article with this slug already exists"}` instead of a 500.
    """
    del request
    from trivium.responses import JSONResponse

    return JSONResponse({"detail": conflict_message(classify(exc))}, status_code=409)
