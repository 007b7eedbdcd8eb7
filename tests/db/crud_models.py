"""Models and an app shared by the CRUD router tests (tables with a per-run suffix)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium import App
from trivium.db import UUIDPK
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Timestamps
from trivium.db import crud_router

SUFFIX = uuid.uuid4().hex[:6]


class Writer(IntPK, Model):
    __tablename__ = f"crud_wr_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(50))


class Post(IntPK, Timestamps, Model):
    __tablename__ = f"crud_po_{SUFFIX}"
    title: Mapped[str] = mapped_column(String(40))
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    body: Mapped[str | None] = mapped_column(String(200), default=None)
    pages: Mapped[int] = mapped_column(default=1)
    published: Mapped[bool] = mapped_column(default=False)
    writer_id: Mapped[int | None] = mapped_column(ForeignKey(Writer.id), default=None)
    secret: Mapped[str] = mapped_column(String(20), default="hidden")


class Tag(UUIDPK, Model):
    __tablename__ = f"crud_tg_{SUFFIX}"
    label: Mapped[str] = mapped_column(String(20))


def crud_app(db: Database) -> App:
    app = App()
    db.init_app(app)
    app.include_router(crud_router(Writer, db, prefix="/writers", tags=["writers"]))
    app.include_router(
        crud_router(
            Post,
            db,
            prefix="/posts",
            exclude={"secret"},
            filters=["published", "writer_id", "title__icontains", "pages__gte", "id__in"],
            ordering=["title", "pages", "created_at"],
            search=["title", "body"],
            page_size=2,
            max_page_size=3,
        )
    )
    app.include_router(crud_router(Tag, db, prefix="/tags"))
    return app
