"""Which tables a test's `db` fixture creates: those its module uses, not every model of the run.

Collecting the suite registers every test module's models on `Model.metadata` (80-odd
tables); creating and dropping all of them around each test cost PostgreSQL and MariaDB
about half a second a test. A test gets the tables of the models its module (or its
package's `conftest.py`) defines or imports, those of the modules it imports helpers
from (an app factory next to its models), every battery's (`trivium.*`: auth, audit,
the task outbox), the tables those reference, and the tables no model maps (the
stores' `trivium_store`, association tables between wanted ones).
A test needing another model imports it. Teardown drops every table of the metadata
that exists, found with one query, so tables a test created itself go too.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import inspect

from trivium.db import Database
from trivium.db import Model

__all__ = ["create_used_tables", "drop_existing_tables", "used_tables"]


def _scanned(module: ModuleType) -> list[ModuleType]:
    """`module` and its package's `conftest` (fixtures there build apps on their models)."""
    found = [module]
    package = module.__name__.rpartition(".")[0]
    while package:
        conftest = sys.modules.get(f"{package}.conftest")
        if conftest is not None:
            found.append(conftest)
        package = package.rpartition(".")[0]
    return found


def used_tables(module: ModuleType, metadata: MetaData = Model.metadata) -> list[Table]:
    """The tables of `metadata` that tests of `module` use, in creation order."""
    names: set[str] = set()
    objects: set[int] = set()
    for scanned in _scanned(module):
        names.add(scanned.__name__)
        for value in vars(scanned).values():
            if isinstance(value, ModuleType):
                names.add(value.__name__)
                continue
            objects.add(id(value))
            home = getattr(value, "__module__", None)  # where an imported helper lives
            if isinstance(home, str):
                names.add(home)
    wanted: set[Table] = set()
    mapped: set[Table] = set()
    for mapper in Model.registry.mappers:
        tables = [table for table in mapper.tables if table.metadata is metadata]
        mapped.update(tables)
        cls: Any = mapper.class_
        if cls.__module__.startswith("trivium.") or cls.__module__ in names or id(cls) in objects:
            wanted.update(tables)
    while True:  # what they reference, and unmapped tables (stores', associations)
        grown = {fk.column.table for table in wanted for fk in table.foreign_keys} - wanted
        grown |= {
            table
            for table in metadata.tables.values()
            if table not in mapped
            and table not in wanted
            and all(fk.column.table in wanted for fk in table.foreign_keys)
        }
        if not grown:
            break
        wanted |= grown
    return [table for table in metadata.sorted_tables if table in wanted]


async def create_used_tables(db: Database, module: ModuleType) -> None:
    """Create the tables tests of `module` use (see `used_tables`)."""
    tables = used_tables(module)
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: Model.metadata.create_all(sync, tables=tables))
    await db.dispose()


async def drop_existing_tables(db: Database, metadata: MetaData = Model.metadata) -> None:
    """Drop every table of `metadata` that exists (one query finds them)."""

    def drop(sync: Any) -> None:
        present = {name.lower() for name in inspect(sync).get_table_names()}
        tables = [
            table
            for table in metadata.sorted_tables
            if table.schema is None and table.name.lower() in present
        ]
        metadata.drop_all(sync, tables=tables, checkfirst=False)
        others = [table for table in metadata.sorted_tables if table.schema is not None]
        if others:
            metadata.drop_all(sync, tables=others, checkfirst=True)

    async with db.engine.begin() as connection:
        await connection.run_sync(drop)
    await db.dispose()
