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

Needs the `db` extra (SQLAlchemy 2 with asyncio and a driver: aiosqlite, asyncpg or aiomysql).
"""

from __future__ import annotations

from trivium.db._database import DEFAULT_URL
from trivium.db._database import Database
from trivium.db._database import async_url
from trivium.db._database import atomic
from trivium.db._model import NAMING_CONVENTION
from trivium.db._model import UUIDPK
from trivium.db._model import IntPK
from trivium.db._model import Model
from trivium.db._model import Timestamps
from trivium.db._model import UTCDateTime
from trivium.db._model import utcnow
from trivium.db._query import LOOKUPS
from trivium.db._query import NotFound
from trivium.db._query import Page
from trivium.db._query import QueryError
from trivium.db._query import QuerySet

__all__ = [
    "DEFAULT_URL",
    "LOOKUPS",
    "NAMING_CONVENTION",
    "UUIDPK",
    "Database",
    "IntPK",
    "Model",
    "NotFound",
    "Page",
    "QueryError",
    "QuerySet",
    "Timestamps",
    "UTCDateTime",
    "async_url",
    "atomic",
    "utcnow",
]
