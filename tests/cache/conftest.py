"""Cache fixtures: the store tests' `store` fixture (memory, SQLite, and the servers set)."""

from __future__ import annotations

from tests.stores.conftest import anyio_backend
from tests.stores.conftest import store

__all__ = ["anyio_backend", "store"]
