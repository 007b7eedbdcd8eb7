"""Entries for bulk ORM statements: `QuerySet.update()`/`.delete()` and `session.execute(update(M))`.

A bulk `UPDATE` or `DELETE` never loads its rows, so SQLAlchemy's `do_orm_execute` event
is the seam: before the statement runs, one `SELECT` with the statement's own `WHERE`
reads every matched row's key and the values of the columns it sets (`FOR UPDATE` on
PostgreSQL and MariaDB, so they cannot change before the write). For an expression such
as `likes = likes + 1` the same `SELECT` also computes the new value from the old row,
exactly as the `UPDATE` will. The statement then runs, and the entries of all matched
rows go in with one executemany `INSERT`. Two statements per bulk write, whatever the
number of rows (the driver may split a very large executemany into pages of ~1,000 rows).

A bulk `UPDATE` by primary key (`session.execute(update(M), [{"id": 1, ...}, ...])`)
reads the before-values with one `SELECT ... WHERE pk IN (...)` per 1,000 rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy import type_coerce
from sqlalchemy.sql.elements import BindParameter

from trivium.audit._capture import Model
from trivium.audit._capture import Pending
from trivium.audit._capture import Tracker
from trivium.audit._capture import stored_value
from trivium.audit._models import encode_pk

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Result
    from sqlalchemy.orm import ORMExecuteState

__all__ = ["record_bulk"]

BATCH = 1000
"""Keys per `SELECT ... IN` when reading the rows of a bulk update by primary key."""


def record_bulk(tracker: Tracker, state: ORMExecuteState) -> Result[Any] | None:
    """Run an audited bulk `UPDATE`/`DELETE` and record its rows (the `do_orm_execute` handler).

    Returns `None` (SQLAlchemy runs the statement itself) for statements that are not
    audited.
    """
    if not (state.is_update or state.is_delete or state.is_insert) or state.bind_mapper is None:
        return None
    model = tracker.get(state.bind_mapper.class_)
    if model is None:
        return None
    if state.is_insert:
        return _inserted(model, state)
    connection = state.session.connection(bind_arguments={"mapper": state.bind_mapper})
    if state.is_executemany:
        return _by_primary_key(model, state, connection)
    statement: Any = state.statement
    pending = Pending()
    if state.is_delete:
        _read_deleted(model, statement, connection, pending)
    else:
        _read_updated(model, statement, connection, pending)
    result = state.invoke_statement()
    pending.write(state.session)
    return result


def _inserted(model: Model, state: ORMExecuteState) -> Result[Any] | None:
    """Record an ORM `INSERT` statement (`session.execute(insert(M), [{...}, ...])`).

    The statement is run with `RETURNING` the primary key, in the order of its
    parameters, and each new row gets a `create` entry with the values given (defaults
    filled in by the database or by Python are not listed). Statements that return
    columns themselves, upserts, and databases without `INSERT ... RETURNING` are run
    unrecorded.
    """
    statement: Any = state.statement
    dialect = state.session.connection(bind_arguments={"mapper": model.mapper}).dialect
    raw: Any = state.parameters
    given = {
        getattr(k, "key", k): getattr(v, "value", v) for k, v in (statement._values or {}).items()
    }
    if isinstance(raw, list) and raw:
        rows: list[dict[str, Any]] = [{**given, **p} for p in raw]
    else:
        rows = [{**given, **(raw or {})}]
    if (
        statement._returning
        or statement._post_values_clause is not None
        or statement._multi_values
        or not dialect.insert_returning
        or (len(rows) > 1 and not dialect.insert_executemany_returning_sort_by_parameter_order)
    ):
        return None
    returning = statement.returning(*_pk_columns(model), sort_by_parameter_order=len(rows) > 1)
    frozen = state.invoke_statement(statement=returning).freeze()
    by_column = {column.key: key for key, column in model.columns.items()}
    pending = Pending()
    for values, keys in zip(rows, frozen.data, strict=True):
        given = {by_column.get(str(name), str(name)): value for name, value in values.items()}
        changes = {
            k: [None, model.value(k, v, dialect)] for k, v in given.items() if k in model.columns
        }
        identity = dict(zip(model.pk_keys, keys, strict=True))
        changes.update({k: [None, model.value(k, v)] for k, v in identity.items()})
        pending.add("create", model, model.pk(identity), changes)
    pending.write(state.session)
    return frozen()


def _lock(statement: Any, connection: Connection) -> Any:
    return statement if connection.dialect.name == "sqlite" else statement.with_for_update()


def _pk_columns(model: Model) -> list[Column[Any]]:
    return [model.columns[key] for key in model.pk_keys]


def _read_deleted(model: Model, statement: Any, connection: Connection, pending: Pending) -> None:
    keys = list(model.columns)
    query = select(*(model.columns[k] for k in keys))
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    for row in connection.execute(_lock(query, connection)):
        values = dict(zip(keys, row, strict=True))
        changes = {k: [model.value(k, values[k]), None] for k in keys}
        pending.add("delete", model, model.pk(values), changes)


def _set_values(model: Model, statement: Any) -> list[tuple[str, Any]]:
    """Return `(attribute key, value clause)` for each column the `UPDATE` sets."""
    by_column = {column.key: key for key, column in model.columns.items()}
    found: list[tuple[str, Any]] = []
    for target, value in statement._values.items():
        name = target if isinstance(target, str) else getattr(target, "key", None)
        key = name if name in model.columns else by_column.get(str(name))
        if key is not None and key not in model.untracked:
            found.append((key, value))
    return found


def _read_updated(model: Model, statement: Any, connection: Connection, pending: Pending) -> None:
    sets = _set_values(model, statement) if statement._values else []
    if not sets:
        return
    constant = {k: v.effective_value for k, v in sets if isinstance(v, BindParameter)}
    computed = [(k, v) for k, v in sets if not isinstance(v, BindParameter)]
    columns: list[Any] = [*_pk_columns(model), *(model.columns[k] for k, _ in sets)]
    columns += [type_coerce(v, model.columns[k].type) for k, v in computed]
    query = select(*columns)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    pk_count, set_count = len(model.pk_keys), len(sets)
    for row in connection.execute(_lock(query, connection)):
        keys = dict(zip(model.pk_keys, row[:pk_count], strict=True))
        before = dict(zip((k for k, _ in sets), row[pk_count : pk_count + set_count], strict=True))
        after = dict(constant)
        after.update(zip((k for k, _ in computed), row[pk_count + set_count :], strict=True))
        after = {k: stored_value(model.columns[k], v, connection.dialect) for k, v in after.items()}
        changes = {
            k: [model.value(k, before[k]), model.value(k, after[k])]
            for k, _ in sets
            if before[k] != after[k]
        }
        if changes:
            pending.add("update", model, model.pk(keys), changes)


def _by_primary_key(model: Model, state: ORMExecuteState, connection: Connection) -> Result[Any]:
    """Record a bulk `UPDATE` by primary key (a list of dicts holding each row's key)."""
    raw: Any = state.parameters or ()
    params: list[dict[str, Any]] = [dict(p) for p in raw]
    pending = Pending()
    if state.is_update and params and all(k in p for p in params for k in model.pk_keys):
        pk_cols = _pk_columns(model)
        set_keys = sorted(
            {k for p in params for k in p if k in model.columns}
            - set(model.pk_keys)
            - model.untracked
        )
        wanted = {tuple(p[k] for k in model.pk_keys): p for p in params}
        keys = list(wanted)
        for start in range(0, len(keys), BATCH):
            chunk = keys[start : start + BATCH]
            where = (
                pk_cols[0].in_([k[0] for k in chunk])
                if len(pk_cols) == 1
                else tuple_(*pk_cols).in_(chunk)
            )
            query = select(*pk_cols, *(model.columns[k] for k in set_keys)).where(where)
            for row in connection.execute(_lock(query, connection)):
                key = tuple(row[: len(pk_cols)])
                before = dict(zip(set_keys, row[len(pk_cols) :], strict=True))
                new = {
                    k: stored_value(model.columns[k], v, connection.dialect)
                    for k, v in wanted[key].items()
                    if k in set_keys
                }
                changes = {
                    k: [model.value(k, before[k]), model.value(k, new[k])]
                    for k in set_keys
                    if k in new and before[k] != new[k]
                }
                if changes:
                    pending.add("update", model, encode_pk(key), changes)
    result = state.invoke_statement()
    pending.write(state.session)
    return result
