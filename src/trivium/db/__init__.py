"""Trivium's data layer: async SQLAlchemy 2 with Django-style queries and per-request transactions.

```python
from typing import Annotated

from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from trivium import App
from trivium.db import Database, IntPK, Model, Timestamps

db = Database("sqlite+aiosqlite:///./app.db")
app = App()
db.init_app(app)
Session = Annotated[AsyncSession, db.depends()]


class Article(IntPK, Timestamps, Model):
    __tablename__ = "articles"
    title: Mapped[str] = mapped_column(String(200))


@app.get("/articles/{id}")
async def read(id: int, session: Session) -> dict[str, object]:
    return (await Article.objects(session).get(id=id)).to_dict()
```

Schema changes go through migrations: `trivium db makemigrations -m "..."` then
`trivium db migrate`, or `Migrations(db)` from Python (docs/migrations.md).

Needs the `db` extra (SQLAlchemy 2 with asyncio and a driver: aiosqlite, asyncpg or aiomysql).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import MissingDependencyError

try:
    import sqlalchemy  # noqa: F401 - the `db` extra; checked first for a one-line error
except ModuleNotFoundError:  # pragma: no cover - exercised in a subprocess by the tests
    raise MissingDependencyError("sqlalchemy", "db") from None

from trivium.db._crud import CRUDOptions
from trivium.db._crud import CRUDRouter
from trivium.db._crud import crud_router
from trivium.db._database import DEFAULT_POOL_SIZE
from trivium.db._database import DEFAULT_URL
from trivium.db._database import Database
from trivium.db._database import async_url
from trivium.db._database import atomic
from trivium.db._errors import integrity_error_handler
from trivium.db._etag import Versioned
from trivium.db._etag import check_if_match
from trivium.db._etag import etag
from trivium.db._lookups import TRANSFORMS
from trivium.db._model import NAMING_CONVENTION
from trivium.db._model import UUIDPK
from trivium.db._model import IntPK
from trivium.db._model import Model
from trivium.db._model import Timestamps
from trivium.db._model import UTCDateTime
from trivium.db._model import utcnow
from trivium.db._outage import DatabaseTimeoutError
from trivium.db._outage import DatabaseUnavailableError
from trivium.db._prepared import PreparedQuery
from trivium.db._query import LOOKUPS
from trivium.db._query import NotFound
from trivium.db._query import Page
from trivium.db._query import Q
from trivium.db._query import QueryError
from trivium.db._query import QuerySet
from trivium.db._schemas import CRUDSchemas

if TYPE_CHECKING:
    from trivium.db._migrations import Migrations
    from trivium.db._migrations import NotNullColumn
    from trivium.db._migrations import RenameCandidate
    from trivium.db._revisions import DatabaseAheadError
    from trivium.db._revisions import MigrationError
    from trivium.db._revisions import MigrationFailedError
    from trivium.db._revisions import Revision

__all__ = [
    "DEFAULT_POOL_SIZE",
    "DEFAULT_URL",
    "LOOKUPS",
    "NAMING_CONVENTION",
    "TRANSFORMS",
    "UUIDPK",
    "CRUDOptions",
    "CRUDRouter",
    "CRUDSchemas",
    "Database",
    "DatabaseAheadError",
    "DatabaseTimeoutError",
    "DatabaseUnavailableError",
    "IntPK",
    "MigrationError",
    "MigrationFailedError",
    "Migrations",
    "Model",
    "NotFound",
    "NotNullColumn",
    "Page",
    "PreparedQuery",
    "Q",
    "QueryError",
    "QuerySet",
    "RenameCandidate",
    "Revision",
    "Timestamps",
    "UTCDateTime",
    "Versioned",
    "async_url",
    "atomic",
    "check_if_match",
    "crud_router",
    "etag",
    "integrity_error_handler",
    "utcnow",
]

# Alembic takes a tenth of a second to import and only migration commands need it:
# these names are imported from their module on first use.
_MIGRATION_NAMES = {
    "DatabaseAheadError": "trivium.db._revisions",
    "MigrationError": "trivium.db._revisions",
    "MigrationFailedError": "trivium.db._revisions",
    "Migrations": "trivium.db._migrations",
    "NotNullColumn": "trivium.db._migrations",
    "RenameCandidate": "trivium.db._migrations",
    "Revision": "trivium.db._revisions",
}


def __getattr__(name: str) -> Any:
    module = _MIGRATION_NAMES.get(name)
    if module is not None:
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'trivium.db' has no attribute {name!r}")
