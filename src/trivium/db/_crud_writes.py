"""Parts of the CRUD router's writes: the input the schemas cannot refuse, and deletes.

A delete is one `DELETE` statement rather than the ORM's `session.delete()`, which would
first set the references of a `relationship()`'s children to NULL: a 204 that orphans
them, or a NOT NULL error instead of the 409 "still referenced".
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import Interval
from sqlalchemy import delete
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.exc import StaleDataError

from trivium.db._model import in_utc_range
from trivium.errors import RequestValidationError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["check_datetimes", "delete_row", "whole_second_columns"]


def _error(name: str, message: str, value: Any) -> dict[str, Any]:
    return {
        "type": "value_error",
        "loc": ["body", name],
        "msg": f"Value error, {message}",
        "input": value,
    }


def check_datetimes(values: Mapping[str, Any], whole_seconds: Collection[str] = ()) -> None:
    """Refuse, with a 422, aware datetimes that have no UTC equivalent (years 1 to 9999).

    The value itself is valid, so the schemas let it through, but stored in UTC it would
    overflow (a 500). So are durations with a fraction of a second for the `Interval`
    columns named in `whole_seconds`: MariaDB and MySQL keep them in a `DATETIME`, which
    would drop it.

    Raises:
        RequestValidationError: one error per such field, at `["body", field]`.
    """
    errors = []
    for name, value in values.items():
        if isinstance(value, datetime.timedelta) and name in whole_seconds and value.microseconds:
            message = "this database stores durations in whole seconds: give one without a fraction"
            errors.append(_error(name, message, str(value)))
        if not isinstance(value, datetime.datetime):
            continue
        try:
            in_utc_range(value)
        except ValueError as exc:
            errors.append(_error(name, str(exc), value.isoformat()))
    if errors:
        raise RequestValidationError(errors)


def whole_second_columns(model: type[Any], backend: str) -> frozenset[str]:
    """Return the `Interval` columns of `model` that `backend` stores in whole seconds."""
    if backend not in ("mysql", "mariadb"):
        return frozenset()
    return frozenset(
        attr.key
        for attr in sa_inspect(model).column_attrs
        if len(attr.columns) == 1 and isinstance(attr.columns[0].type, Interval)
    )


async def delete_row(session: AsyncSession, model: type[Any], row: Any, key: Any) -> None:
    """Delete `row` (of `model`, primary key `key`) so that the database's foreign keys decide.

    Rows that still refer to it make the statement fail (an `IntegrityError`), unless
    their foreign key says `ON DELETE CASCADE` or `SET NULL`. A model whose relationships
    ask for a delete cascade (`cascade="all, delete-orphan"`) is deleted through the ORM,
    which applies it. The statement is an ORM one, so session events (the audit) see it.

    Raises:
        StaleDataError: a `Versioned` row changed, or the row went away, since it was read.
    """
    mapper = sa_inspect(model)
    if any(relationship.cascade.delete for relationship in mapper.relationships):
        await session.delete(row)
        await session.flush()
        return
    pk = mapper.primary_key[0]
    statement = delete(model).where(pk == key)
    version = mapper.version_id_col
    if version is not None:
        current = getattr(row, mapper.get_property_by_column(version).key)
        statement = statement.where(version == current)
    result: Any = await session.execute(statement)
    if result.rowcount != 1:
        raise StaleDataError(f"{model.__name__} {key} changed or went away while being deleted")
