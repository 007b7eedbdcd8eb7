"""A lone new row written straight on the driver (PostgreSQL, asyncpg), as the ORM would.

`db/_commit.py` already writes a request session's one new row as one `INSERT` in
autocommit mode. Through SQLAlchemy that statement still costs most of a form post's
CPU: the asyncio execution path runs connect, execute, commit and close each in a
greenlet of its own, around Core's execution context. For the common model (one table,
an autoincrement or client-side key, values and Python-side defaults only) this module
does what the unit of work would do, the way `PreparedQuery` does it for hot reads:

- the values are the attributes set on the object, a column left unset (or set to
  `None`, which the ORM leaves out too) taking its Python-side default, computed as
  SQLAlchemy computes it; the dialect's bind processors are applied to them;
- the `INSERT ... RETURNING` key, compiled once per mapper and set of columns, runs on
  a pooled connection's driver outside any transaction (one round trip);
- the key and the defaults are written back into the object, which becomes what it
  would be once the request's session closes: detached, with its identity
  (`make_transient_to_detached`, public API). When the session has commit listeners
  (the task outbox's relay), the object is first made persistent in it again and the
  session commits its now empty transaction, so they run as before.

Anything this can't reproduce keeps the ORM: a server-side default, computed or
identity column (other than the key), a default that reads its context, inheritance,
a polymorphic or versioned mapper, an attribute not mapped one to one on a column,
instance or session life-cycle listeners, SQL logging (`echo`) and engine statement
listeners (except those marked `statement_only`, which are told of the statement).
A statement the server refuses (a constraint, a bad value) wrote nothing, so the
session then commits through the ORM as before, which raises SQLAlchemy's own error; a
lost connection is a 503, a deadline a 504, as through the ORM.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.util import greenlet_spawn

from trivium.db._compiled import DriverStatement
from trivium.db._compiled import for_driver
from trivium.db._outage import terminate
from trivium.db._outage import track_connection
from trivium.db._outage import translate_driver_error

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Mapper

__all__ = ["insert_directly"]

_UNSET = object()
_SESSION_EVENTS = (
    "before_attach",
    "after_attach",
    "transient_to_pending",
    "pending_to_transient",
    "pending_to_persistent",
    "detached_to_persistent",
    "loaded_as_persistent",
)
_INSTANCE_EVENTS = ("load", "refresh", "refresh_flush", "expire")
_ENGINE_EVENTS = ("before_execute", "after_execute", "before_cursor_execute")


class _Plan:
    """What inserting a row of one mapper needs, worked out once."""

    __slots__ = ("columns", "dialect", "key", "key_result", "returning", "statements", "table")

    def __init__(self, mapper: Mapper[Any], table: Table, dialect: Any) -> None:
        self.table = table
        self.dialect = dialect
        # (attribute key, column, default or None) for every column of the table
        self.columns: list[tuple[str, Column[Any], Any]] = [
            (mapper.get_property_by_column(column).key, column, column.default)
            for column in table.columns
        ]
        (self.key,) = [key for key, column, _ in self.columns if column.primary_key]
        self.returning = table.primary_key.columns[0]
        self.key_result = self.returning.type._cached_result_processor(dialect, None)
        # per set of columns given: the INSERT as the driver runs it
        self.statements: dict[frozenset[str], DriverStatement] = {}

    def statement(self, names: frozenset[str]) -> DriverStatement:
        found = self.statements.get(names)
        if found is None:
            table = self.table
            values: dict[Any, Any] = {table.c[name]: bindparam(name) for name in names}
            statement = insert(table).values(values).returning(self.returning)
            compiled = for_driver(statement, self.dialect)
            if compiled is None or set(compiled.names) != names:
                # The dialect added a parameter of its own: keep the ORM.
                raise LookupError(names)
            found = self.statements[names] = compiled
        return found


_plans: dict[tuple[Any, Any], _Plan | None] = {}


def _plan(mapper: Mapper[Any], dialect: Any) -> _Plan | None:
    """Return the mapper's plan, or `None` when its rows must go through the ORM."""
    key = (mapper, dialect)
    if key not in _plans:
        _plans[key] = _plan_of(mapper, dialect)
    return _plans[key]


def _plan_of(mapper: Mapper[Any], dialect: Any) -> _Plan | None:
    table = mapper.local_table
    if (
        not isinstance(table, Table)
        or mapper.inherits is not None
        or mapper.polymorphic_on is not None
        or mapper.version_id_col is not None
        or len(table.primary_key.columns) != 1
    ):
        return None
    for prop in mapper.column_attrs:
        if len(prop.columns) != 1 or prop.columns[0].table is not table:
            return None
    mapped = {id(prop.columns[0]) for prop in mapper.column_attrs}
    for column in table.columns:
        if id(column) not in mapped:
            return None
        if column.server_default is not None or column.computed is not None:
            return None
        if column.identity is not None and not column.primary_key:
            return None
        default = column.default
        if default is not None and not (
            default.is_scalar or (default.is_callable and _ignores_context(default.arg))
        ):
            return None
    (primary,) = table.primary_key.columns
    if primary is not table.autoincrement_column and primary.default is None:
        return None  # the key must come from the object: leave such rows to the ORM
    return _Plan(mapper, table, dialect)


def _ignores_context(function: Callable[..., Any]) -> bool:
    # SQLAlchemy wraps a default that takes no argument in a one-argument lambda and
    # keeps the original as `__wrapped__`; a default that takes the context is kept as is.
    return getattr(function, "__wrapped__", None) is not None


def _engine_listeners(sync_engine: Any) -> list[Any] | None:
    """The statement listeners to tell, or `None` when the engine needs SQLAlchemy.

    Logging, execution options (a schema translation map) and statement listeners other
    than `statement_only` ones only happen on SQLAlchemy's execution path.
    """
    dispatch = sync_engine.dispatch
    if (
        sync_engine.echo
        or sync_engine.get_execution_options()
        or any(getattr(dispatch, name) for name in _ENGINE_EVENTS)
    ):
        return None
    listeners = list(dispatch.after_cursor_execute)
    if not all(getattr(listener, "statement_only", False) for listener in listeners):
        return None
    return listeners


async def insert_directly(session: AsyncSession) -> bool:
    """Write the session's one new row on the driver and commit; `False`: use the ORM.

    The caller has checked that the session holds one new row and nothing else
    (`lone_insert`). On `False` nothing was written and the session is unchanged.
    """
    sync = session.sync_session
    engine: Any = session.bind
    if engine is None or any(getattr(sync.dispatch, name) for name in _SESSION_EVENTS):
        return False
    listeners = _engine_listeners(engine.sync_engine)
    if listeners is None:
        return False
    (row,) = sync.new
    state: Any = inspect(row)
    mapper = state.mapper
    plan = _plan(mapper, engine.dialect)
    if (
        plan is None
        or sync.get_bind(mapper) is not engine.sync_engine
        or any(getattr(mapper.class_manager.dispatch, name) for name in _INSTANCE_EVENTS)
    ):
        return False
    params, filled = _values(plan, state.dict)
    try:
        sql, order, processors, _ = plan.statement(frozenset(params))
    except LookupError:
        return False
    arguments = [
        params[name] if process is None else process(params[name])
        for name, process in zip(order, processors, strict=True)
    ]
    written, key = await _execute(session, engine, sql, arguments, listeners)
    if not written:
        return False
    if plan.returning.key not in params:
        filled[plan.key] = key if plan.key_result is None else plan.key_result(key)
    state.dict.update(filled)
    sync.expunge(row)
    make_transient_to_detached(row)  # now what it is once its session closes
    if sync.dispatch.before_commit or sync.dispatch.after_commit:
        sync.add(row)  # persistent in the session those listeners see
        await session.commit()
    return True


def _values(plan: _Plan, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the INSERT's values by column, and the defaults to write back by attribute.

    As the ORM does: an attribute left unset, or set to `None` on a type that doesn't
    store `None` itself, leaves its column out, where the Python-side default applies
    (or NULL, which the object then holds as `None`).
    """
    params: dict[str, Any] = {}
    filled: dict[str, Any] = {}
    for key, column, default in plan.columns:
        value = values.get(key, _UNSET)
        if value is _UNSET or (value is None and not column.type.should_evaluate_none):
            if default is None:
                if not column.primary_key:
                    filled[key] = None  # NULL in the row, as loaded (never expired)
                continue
            value = default.arg if default.is_scalar else default.arg(None)
            filled[key] = value
        params[column.key] = value
    return params, filled


class _Checkout:
    """A pooled connection as the session's deadline sees the connections it may close."""

    __slots__ = ("closed", "connection", "invalidated")

    def __init__(self, fairy: Any) -> None:
        self.connection = fairy  # `.driver_connection`, as a `Connection`'s `.connection`
        self.closed = False
        self.invalidated = False


async def _execute(
    session: AsyncSession, engine: Any, sql: str, arguments: list[Any], listeners: list[Any]
) -> tuple[bool, Any]:
    """Run the INSERT on a pooled connection's driver: (written, the returned key).

    The connection is checked out of the engine's pool (its checkout hooks, a ping
    included, run as for any connection) and given back without a transaction to end.
    """
    fairy = await greenlet_spawn(engine.sync_engine.raw_connection)
    checkout = _Checkout(fairy)
    track_connection(session.sync_session, checkout)  # type: ignore[arg-type]
    driver: Any = fairy.driver_connection
    try:
        try:
            key = await driver.fetchval(sql, *arguments)
        except Exception as exc:
            error = translate_driver_error(exc)
            if error is None:  # the server refused the statement: nothing was written
                return False, None
            _discard(fairy, driver, checkout)
            raise error from exc
        except BaseException:  # cancelled mid-statement: never pool a busy connection
            _discard(fairy, driver, checkout)
            raise
        for listener in listeners:  # as SQLAlchemy would after its cursor ran the statement
            listener(fairy, None, sql, arguments, None, False)
    finally:
        checkout.closed = True
        fairy.close()  # back to the pool (no transaction: no round trip)
    return True, key


def _discard(fairy: Any, driver: Any, checkout: _Checkout) -> None:
    terminate(driver)  # the socket is closed at once; the pool replaces the connection
    checkout.invalidated = True
    with contextlib.suppress(Exception):
        fairy.invalidate()
