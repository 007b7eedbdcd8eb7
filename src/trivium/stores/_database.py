"""`DatabaseStore`: keys in a SQL table, for apps that run PostgreSQL/MariaDB but no Redis.

The table `trivium_store` is declared on `trivium.db.Model.metadata` (so `create_all()`
and migration checks see it); the battery also ships an Alembic revision for it
(`db.include_migrations("trivium.stores")`). `set` is one dialect-native upsert; `incr`
locks the row (`SELECT ... FOR UPDATE`; SQLite locks the whole file with
`BEGIN IMMEDIATE`) and retries when two workers create the same counter at once.
Expired rows read as missing, are deleted when met, and `purge_expired()` removes them
all (run it from a periodic task).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import Column
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from trivium.db import NAMING_CONVENTION
from trivium.db import Model
from trivium.db import UTCDateTime
from trivium.db import utcnow
from trivium.errors import ConfigurationError
from trivium.stores._base import check_ttl
from trivium.stores._base import check_value

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy.sql.compiler import SQLCompiler
    from sqlalchemy.types import TypeEngine

    from trivium.db import Database

__all__ = ["TABLE_NAME", "DatabaseStore", "store_table"]

TABLE_NAME = "trivium_store"
"""The name of the default store table."""
MAX_KEY_LENGTH = 255
_RETRIES = 5


class _Unhex(FunctionElement[bytes]):
    """`UNHEX(x)` on MySQL/MariaDB, plain `x` elsewhere."""

    type = LargeBinary()
    inherit_cache = True


@compiles(_Unhex)
def _plain(element: _Unhex, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_Unhex, "mysql")
@compiles(_Unhex, "mariadb")
def _unhex(element: _Unhex, compiler: SQLCompiler, **kw: Any) -> str:
    return f"UNHEX({compiler.process(element.clauses, **kw)})"


class StoreBlob(TypeDecorator[bytes]):
    """Binary values (LONGBLOB on MySQL/MariaDB), sent to MySQL as hex text.

    aiomysql cannot bind `bytes` parameters with PyMySQL >= 1.2 (it imports a helper
    PyMySQL removed), so on MySQL/MariaDB the value travels as hex and `UNHEX()` turns
    it back into bytes in the server.
    """

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Use LONGBLOB on MySQL/MariaDB (a BLOB holds only 64 KiB)."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.LONGBLOB())
        return dialect.type_descriptor(LargeBinary())

    def bind_expression(self, bindvalue: Any) -> Any:
        """Wrap the parameter in `UNHEX()` on MySQL/MariaDB."""
        return _Unhex(bindvalue)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """Send hex text to MySQL/MariaDB, bytes elsewhere."""
        if dialect.name in ("mysql", "mariadb"):
            return _hex
        return super().bind_processor(dialect)


def _hex(value: bytes | None) -> str | None:
    return None if value is None else bytes(value).hex()


def _define(name: str, metadata: MetaData) -> Table:
    return Table(
        name,
        metadata,
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("value", StoreBlob()),
        Column("expires_at", UTCDateTime(), nullable=True),
        Index(f"ix_{name}_expires_at", "expires_at"),
    )


_DEFAULT_TABLE = _define(TABLE_NAME, Model.metadata)
_OTHER_TABLES: dict[str, Table] = {}


def store_table(name: str = TABLE_NAME) -> Table:
    """Return the store table called `name`.

    The default table lives on `Model.metadata`; any other name gets a table on its own
    `MetaData` (create it with `db.create_all(store_table(name).metadata)` or a migration).
    """
    if name == TABLE_NAME:
        return _DEFAULT_TABLE
    table = _OTHER_TABLES.get(name)
    if table is None:
        table = _OTHER_TABLES[name] = _define(name, MetaData(naming_convention=NAMING_CONVENTION))
    return table


def _expiry(ttl: float | None) -> datetime.datetime | None:
    return None if ttl is None else utcnow() + datetime.timedelta(seconds=ttl)


class DatabaseStore:
    """Keep keys in a table of a `trivium.db.Database`.

    ```python
    db = Database("postgresql://app@localhost/app")
    store = DatabaseStore(db)
    ```

    Args:
        db: the database holding the table.
        table: the table name; the default `trivium_store` is the one the shipped
            migration creates.

    Raises:
        ConfigurationError: the table name is empty (`store-table`).
    """

    __slots__ = ("db", "table")

    def __init__(self, db: Database, *, table: str = TABLE_NAME) -> None:
        if not isinstance(table, str) or not table:
            raise ConfigurationError(
                f"table must be a non-empty name, not {table!r}", "store-table"
            )
        self.db = db
        """The database holding the keys."""
        self.table = store_table(table)
        """The SQLAlchemy `Table` of the store."""

    def __repr__(self) -> str:
        return f"DatabaseStore({self.db!r}, table={self.table.name!r})"

    def migration_folders(self, database: object) -> dict[str, Path]:
        """The revision creating the store's table, when the store lives in `database`.

        The same hook a plugin has (`Plugin.migration_folders`): a battery keeping its
        data in a `DatabaseStore` (sessions, auth's throttling) hands it on, so the
        table is migrated with the database it is in.
        """
        if database is not self.db:
            return {}
        return {"trivium.stores": Path(__file__).parent / "migrations"}

    def _check_key(self, key: str) -> None:
        if len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"store keys are at most {MAX_KEY_LENGTH} characters long")

    async def get(self, key: str) -> bytes | None:
        """Return the value under `key`, or `None` when missing or expired."""
        t = self.table
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(select(t.c.value, t.c.expires_at).where(t.c.key == key))
            ).first()
            if row is None:
                return None
            if row.expires_at is not None and row.expires_at <= utcnow():
                await conn.execute(delete(t).where(t.c.key == key, t.c.expires_at <= utcnow()))
                await conn.commit()
                return None
            return bytes(row.value)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store `value` under `key` for `ttl` seconds (`None`: no expiry)."""
        check_value(value)
        check_ttl(ttl)
        self._check_key(key)
        values: dict[str, Any] = {"key": key, "value": bytes(value), "expires_at": _expiry(ttl)}
        for attempt in range(_RETRIES):
            try:
                async with self.db.engine.begin() as conn:
                    await self._upsert(conn, values)
                return
            except DBAPIError:
                if attempt == _RETRIES - 1:
                    raise

    async def _upsert(self, conn: AsyncConnection, values: dict[str, Any]) -> None:
        t = self.table
        changes = {"value": values["value"], "expires_at": values["expires_at"]}
        name = conn.dialect.name
        if name == "postgresql":
            pg = postgresql.insert(t).values(values)
            await conn.execute(pg.on_conflict_do_update(index_elements=[t.c.key], set_=changes))
        elif name == "sqlite":
            lite = sqlite.insert(t).values(values)
            await conn.execute(lite.on_conflict_do_update(index_elements=[t.c.key], set_=changes))
        elif name in ("mysql", "mariadb"):
            my = mysql.insert(t).values(values)
            await conn.execute(my.on_duplicate_key_update(**changes))
        else:  # pragma: no cover - trivium tests the three backends above
            await conn.execute(delete(t).where(t.c.key == values["key"]))
            await conn.execute(insert(t).values(values))

    async def delete(self, key: str) -> None:
        """Remove `key` if present."""
        async with self.db.engine.begin() as conn:
            await conn.execute(delete(self.table).where(self.table.c.key == key))

    async def incr(self, key: str, ttl: float) -> int:
        """Add one to the counter under `key`; a new counter expires after `ttl` seconds."""
        check_ttl(ttl)
        self._check_key(key)
        for attempt in range(_RETRIES):
            try:
                async with self.db.engine.begin() as conn:
                    return await self._incr(conn, key, ttl)
            except DBAPIError:
                # Two workers created the same counter at once (unique violation) or
                # deadlocked on the gap lock: the retry finds the row and locks it.
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _incr(self, conn: AsyncConnection, key: str, ttl: float) -> int:
        t = self.table
        query = select(t.c.value, t.c.expires_at).where(t.c.key == key).with_for_update()
        row = (await conn.execute(query)).first()
        if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
            if row is not None:
                await conn.execute(delete(t).where(t.c.key == key))
            await conn.execute(insert(t).values(key=key, value=b"1", expires_at=_expiry(ttl)))
            return 1
        try:
            count = int(bytes(row.value)) + 1
        except ValueError:
            raise ValueError(f"the value under {key!r} is not a counter") from None
        await conn.execute(update(t).where(t.c.key == key).values(value=str(count).encode()))
        return count

    async def purge_expired(self) -> int:
        """Delete every expired row and return how many were removed."""
        t = self.table
        async with self.db.engine.begin() as conn:
            result = await conn.execute(delete(t).where(t.c.expires_at <= utcnow()))
        return int(result.rowcount)

    async def clear(self) -> None:
        """Delete every row of the table."""
        async with self.db.engine.begin() as conn:
            await conn.execute(delete(self.table))

    async def close(self) -> None:
        """Do nothing: the connections belong to the `Database`, which disposes of them."""
