"""Helpers of `Database`'s set-up: SQLite's transaction settings, option checks, migrations.

SQLite needs explicit transactions for savepoints to work and foreign keys switched on
per connection; `Database` applies `configure_sqlite` to each SQLite engine it creates.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from trivium.db._lookups import register_sqlite_functions
from trivium.errors import ConfigurationError

__all__ = ["configure_sqlite", "package_migrations", "seconds"]


def seconds(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise ConfigurationError(
            f"{name}={value!r} is not a number of seconds; use a positive number, or None "
            "for no limit",
            "db-timeout",
        )
    return float(value)


def package_migrations(package: str) -> Path:
    """Return the `migrations/` folder inside `package`, without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            f"include_migrations({package!r}): no package named {package!r} can be imported; "
            "check the spelling and that it is installed",
            "db-migrations-package",
        )
    for location in spec.submodule_search_locations:
        folder = Path(location) / "migrations"
        if folder.is_dir():
            return folder.resolve()
    raise ConfigurationError(
        f"include_migrations({package!r}): the package has no 'migrations' folder; "
        "a package ships its revision files in <package>/migrations/",
        "db-migrations-package",
    )


def configure_sqlite(engine: AsyncEngine) -> None:
    """Make SQLite transactions real: explicit `BEGIN IMMEDIATE`, savepoints, foreign keys.

    Python's sqlite3 driver issues `BEGIN` itself, lazily and not before every statement,
    which breaks `SAVEPOINT`; SQLAlchemy's documented recipe takes over instead. `IMMEDIATE`
    takes the write lock at the start, so concurrent read-modify-write transactions queue
    up (SQLite has one writer anyway) rather than fail with "database is locked".
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        del connection_record
        dbapi_connection.isolation_level = None
        # Unicode-aware lower() for the case-insensitive lookups (see _lookups.py).
        register_sqlite_functions(dbapi_connection)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
