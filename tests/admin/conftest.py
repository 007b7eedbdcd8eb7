"""Admin fixtures: the auth tests' databases (SQLite, and PostgreSQL/MariaDB when configured)."""

from __future__ import annotations

import tests.admin.adminapp  # noqa: F401 - registers the admin test tables on Model.metadata
from tests.auth.conftest import _server_databases
from tests.auth.conftest import anyio_backend
from tests.auth.conftest import db
from tests.auth.conftest import db_url

import trivium.audit  # noqa: F401 - registers the audit table

__all__ = ["_server_databases", "anyio_backend", "db", "db_url"]
