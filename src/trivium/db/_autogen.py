"""What trivium adds to Alembic's autogenerate: PostgreSQL enum types and column renames.

Enum types. On PostgreSQL a native `Enum` is a type of its own (`CREATE TYPE color AS
ENUM (...)`). Alembic creates it with a table but not with an added column, never drops
it, and does not notice a value added to it. The revision therefore gets, around the
operations Alembic wrote:

- `sa.Enum(..., name="color").create(bind, checkfirst=True)` before a column using it is
  added (a no-op on databases without enum types);
- after a table or column using it is dropped, a PostgreSQL-only statement dropping the
  type unless another column still uses it (so `downgrade base` leaves nothing behind);
- `ALTER TYPE color ADD VALUE IF NOT EXISTS 'blue'` (PostgreSQL only) for each value the
  model has and the database's type lacks. PostgreSQL cannot remove a value, so the
  downgrade leaves the values in place.

Renames. A column dropped and another added with the same type in the same table is
most often a rename, and applying it as drop + add loses the column's data. Each such
pair must be decided: renamed (an `alter_column(..., new_column_name=...)`) or really
dropped. `makemigrations` refuses to guess (`MigrationError`) when nobody decided.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy import Enum
from sqlalchemy import inspect

from trivium.errors import TriviumError

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Connection

__all__ = [
    "AddEnumValuesOp",
    "CreateEnumOp",
    "DropEnumOp",
    "RenameCandidate",
    "RenameError",
    "added_enum_values",
    "apply_renames",
    "manage_enum_types",
]


class RenameError(TriviumError):
    """A dropped and an added column may be a rename, and nobody said which it is."""


@dataclasses.dataclass(frozen=True, slots=True)
class RenameCandidate:
    """A column dropped and one added with the same type in the same table."""

    table: str
    """The table."""
    old: str
    """The column the models no longer have."""
    new: str
    """The column the models added."""
    type: str
    """Their SQL type, as the database writes it."""

    @property
    def key(self) -> str:
        """`table.old`, as `renames` and `drops` name it."""
        return f"{self.table}.{self.old}"


class CreateEnumOp(ops.MigrateOperation):
    """Create a named enum type if the database has enum types and lacks this one."""

    def __init__(self, name: str, values: tuple[str, ...]) -> None:
        self.name = name
        self.values = values

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("create_enum", self.name, self.values)


class DropEnumOp(ops.MigrateOperation):
    """Drop a named enum type on PostgreSQL, unless a column still uses it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("drop_enum", self.name)


class AddEnumValuesOp(ops.MigrateOperation):
    """Add values to a PostgreSQL enum type (`ALTER TYPE ... ADD VALUE`)."""

    def __init__(self, name: str, values: tuple[str, ...], *, downgrade: bool = False) -> None:
        self.name = name
        self.values = values
        self.downgrade = downgrade

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("add_enum_values", self.name, self.values)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@renderers.dispatch_for(CreateEnumOp)
def _render_create(autogen_context: AutogenContext, op: CreateEnumOp) -> str:
    del autogen_context
    values = ", ".join(repr(value) for value in op.values)
    return f"sa.Enum({values}, name={op.name!r}).create(op.get_bind(), checkfirst=True)"


@renderers.dispatch_for(DropEnumOp)
def _render_drop(autogen_context: AutogenContext, op: DropEnumOp) -> str:
    del autogen_context
    # The name is the model's own identifier, quoted as an SQL literal: no user input.
    unused = (
        "SELECT 1 FROM pg_attribute a JOIN pg_type t ON a.atttypid = t.oid "  # noqa: S608
        f"WHERE t.typname = {_quote(op.name)} AND NOT a.attisdropped"
    )
    sql = f"DO $$ BEGIN IF NOT EXISTS ({unused}) THEN DROP TYPE IF EXISTS {op.name}; END IF; END $$"
    return f'if op.get_bind().dialect.name == "postgresql":\n    op.execute({sql!r})'


@renderers.dispatch_for(AddEnumValuesOp)
def _render_add_values(autogen_context: AutogenContext, op: AddEnumValuesOp) -> str:
    del autogen_context
    if op.downgrade:
        values = ", ".join(op.values)
        return f"pass  # PostgreSQL cannot remove values ({values}) from enum type {op.name}"
    lines = ['if op.get_bind().dialect.name == "postgresql":']
    lines += [
        f"    op.execute({f'ALTER TYPE {op.name} ADD VALUE IF NOT EXISTS {_quote(v)}'!r})"
        for v in op.values
    ]
    # PostgreSQL lets no statement use a new value in the transaction that added it: commit
    # it, so that the later revisions of the same `migrate` can.
    lines.append("    op.get_bind().commit()  # new enum values are usable once committed")
    return "\n".join(lines)


def _enum(column: Any) -> Enum | None:
    sql_type = getattr(column, "type", None)
    if isinstance(sql_type, Enum) and sql_type.native_enum and sql_type.name:
        return sql_type
    return None


def _columns(op: Any) -> list[Any]:
    if isinstance(op, ops.CreateTableOp | ops.DropTableOp):
        return list(op.to_table().columns)
    if isinstance(op, ops.AddColumnOp):
        return [op.column]
    if isinstance(op, ops.DropColumnOp):
        return [op.to_column()]
    if isinstance(op, ops.ModifyTableOps):
        return [column for sub in op.ops for column in _columns(sub)]
    return []


def _enums_of(op: Any, kinds: tuple[type, ...]) -> list[Enum]:
    if isinstance(op, ops.ModifyTableOps):
        return [enum for sub in op.ops for enum in _enums_of(sub, kinds)]
    if not isinstance(op, kinds):
        return []
    return [enum for enum in map(_enum, _columns(op)) if enum is not None]


def manage_enum_types(container: ops.OpContainer) -> None:
    """Create enum types before columns using them are added; drop them after the last use goes."""
    result: list[Any] = []
    for op in container.ops:
        created = {e.name: e for e in _enums_of(op, (ops.AddColumnOp,))}
        dropped = {e.name: e for e in _enums_of(op, (ops.DropColumnOp, ops.DropTableOp))}
        result += [CreateEnumOp(str(name), tuple(e.enums)) for name, e in created.items()]
        result.append(op)
        result += [DropEnumOp(str(name)) for name in dropped]
    container.ops = result


def added_enum_values(connection: Connection, metadata: MetaData) -> list[AddEnumValuesOp]:
    """Return, on PostgreSQL, the values of the models' enum types the database lacks."""
    if connection.dialect.name != "postgresql":
        return []
    inspector: Any = inspect(connection)  # PostgreSQL's inspector has get_enums()
    existing = {enum["name"]: enum["labels"] for enum in inspector.get_enums()}
    wanted: dict[str, list[str]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            enum = _enum(column)
            if enum is not None and enum.name in existing:
                wanted.setdefault(str(enum.name), list(enum.enums))
    result = []
    for name, values in wanted.items():
        missing = tuple(value for value in values if value not in existing[name])
        if missing:
            result.append(AddEnumValuesOp(name, missing))
    return result


def _type_of(column: Any, connection: Connection) -> str:
    try:
        return str(column.type.compile(dialect=connection.dialect))
    except Exception:  # noqa: BLE001 - a type the dialect cannot write is never a match
        return repr(column.type)


def _candidates(table: ops.ModifyTableOps, connection: Connection) -> list[RenameCandidate]:
    drops = [op.to_column() for op in table.ops if isinstance(op, ops.DropColumnOp)]
    adds = [op.column for op in table.ops if isinstance(op, ops.AddColumnOp)]
    found = []
    for old in drops:
        for new in adds:
            kind = _type_of(old, connection)
            if kind == _type_of(new, connection):
                found.append(RenameCandidate(table.table_name, old.name, new.name, kind))
    return found


Decide = Callable[[RenameCandidate], bool]


def _decide(
    candidate: RenameCandidate,
    renames: Mapping[str, str],
    drops: Collection[str],
    ask: Decide | None,
) -> bool:
    if candidate.key in renames:
        return renames[candidate.key] == candidate.new
    if candidate.key in drops:
        return False
    if ask is not None:
        return ask(candidate)
    raise RenameError(
        f"column {candidate.key} was dropped and {candidate.table}.{candidate.new} added, "
        f"both {candidate.type}: is it a rename? Say so with "
        f"--rename {candidate.key}:{candidate.new} (renames={{{candidate.key!r}: "
        f"{candidate.new!r}}}), or confirm the drop, which loses the column's data, with "
        f"--drop {candidate.key} (drops=[{candidate.key!r}])"
    )


def _rename_op(table: ops.ModifyTableOps, old: Any, new: Any) -> ops.AlterColumnOp:
    return ops.AlterColumnOp(
        table.table_name,
        old.name,
        schema=table.schema,
        existing_type=old.type,
        existing_nullable=old.nullable,
        existing_server_default=old.server_default or False,
        modify_name=new.name,
        modify_nullable=new.nullable if new.nullable != old.nullable else None,
    )


def apply_renames(
    script: ops.MigrationScript,
    connection: Connection,
    renames: Mapping[str, str],
    drops: Collection[str],
    ask: Decide | None,
) -> list[RenameCandidate]:
    """Turn the drop + add pairs decided as renames into `alter_column` renames.

    The downgrade gets the opposite rename. Returns the renames made.

    Raises:
        RenameError: a pair was decided by nobody, or `renames` names a column that is
            not dropped-and-added with the same type.
    """
    done: list[RenameCandidate] = []
    taken: set[tuple[str, str]] = set()
    for table in script.upgrade_ops.ops:  # type: ignore[union-attr]
        if not isinstance(table, ops.ModifyTableOps):
            continue
        for candidate in _candidates(table, connection):
            if (table.table_name, candidate.new) in taken or candidate.key in {d.key for d in done}:
                continue
            if _decide(candidate, renames, drops, ask):
                _rewrite(table, candidate.old, candidate.new)
                done.append(candidate)
                taken.add((table.table_name, candidate.new))
    unknown = sorted(set(renames) - {candidate.key for candidate in done})
    if unknown:
        raise RenameError(
            f"cannot rename {', '.join(unknown)}: no such column is dropped while one of "
            "the same type is added in its table"
        )
    for table in script.downgrade_ops.ops:  # type: ignore[union-attr]
        if isinstance(table, ops.ModifyTableOps):
            for candidate in done:
                if table.table_name == candidate.table:
                    _rewrite(table, candidate.new, candidate.old)
    return done


def _rewrite(table: ops.ModifyTableOps, old_name: str, new_name: str) -> None:
    dropped = next(
        op for op in table.ops if isinstance(op, ops.DropColumnOp) and op.column_name == old_name
    )
    added = next(
        op for op in table.ops if isinstance(op, ops.AddColumnOp) and op.column.name == new_name
    )
    rename = _rename_op(table, dropped.to_column(), added.column)
    table.ops = [rename if op is dropped else op for op in table.ops if op is not added]
