"""A blog API from two models: `crud_router` writes the endpoints, schemas and OpenAPI.

Run it with `trivium run examples.crud.app:app` and open http://127.0.0.1:8000/docs.
Set `CRUD_DATABASE_URL` to use PostgreSQL or MariaDB instead of `./crud.db`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium import Request
from trivium.db import NAMING_CONVENTION
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Timestamps
from trivium.db import crud_router
from trivium.db import integrity_error_handler


class Base(Model):
    """The example's own table collection (the test suite shares `Model.metadata`)."""

    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --8<-- [start:models]
class Author(IntPK, Base):
    __tablename__ = "authors"

    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), unique=True)


class Article(IntPK, Timestamps, Base):
    __tablename__ = "articles"

    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int] = mapped_column(ForeignKey(Author.id))
    editor_notes: Mapped[str | None] = mapped_column(Text, default=None)


# --8<-- [end:models]


# --8<-- [start:guard]
def editors_only(request: Request) -> None:
    """A stand-in for real authentication: writes need the editor's key."""
    if request.method not in ("GET", "HEAD") and request.headers.get("x-key") != "editor":
        raise HTTPException(403, "editors only")


# --8<-- [end:guard]


def create_app(url: str) -> App:
    """Build the blog API on the database at `url` (tables created at start-up)."""
    db = Database(url)

    @contextlib.asynccontextmanager
    async def tables(app: App) -> AsyncIterator[dict[str, Any]]:
        del app
        await db.create_all(Base.metadata)
        yield {}

    app = App(title="Blog", lifespan=tables)
    db.init_app(app)
    # --8<-- [start:routers]
    app.include_router(crud_router(Author, db, prefix="/authors", tags=["authors"]))
    app.include_router(
        crud_router(
            Article,
            db,
            prefix="/articles",
            tags=["articles"],
            exclude={"editor_notes"},
            read_only={"published"},
            filters=["author_id", "published", "title__icontains", "created_at__gte"],
            ordering=["created_at", "title"],
            default_ordering=["-created_at", "-id"],
            search=["title", "body"],
            page_size=10,
            max_page_size=50,
            dependencies=[Depends(editors_only)],
        )
    )
    # --8<-- [end:routers]
    # --8<-- [start:handler]
    app.add_exception_handler(IntegrityError, integrity_error_handler)
    # --8<-- [end:handler]
    return app


app = create_app(os.environ.get("CRUD_DATABASE_URL", "sqlite+aiosqlite:///./crud.db"))
