"""Models and an app with the admin, shared by the admin's tests."""

from __future__ import annotations

import enum
import re
from typing import Any

import httpx
from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from trivium import App
from trivium.admin import Admin
from trivium.admin import ModelAdmin
from trivium.admin import action
from trivium.auth import Auth
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Timestamps
from trivium.db import Versioned
from trivium.stores import MemoryStore

SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PASSWORD = "correct horse battery staple"


class Status(enum.Enum):
    draft = "draft"
    live = "live"


class Writer(IntPK, Model):
    __tablename__ = "admintest_writer"
    __app_label__ = "blog"
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), default="")
    articles: Mapped[list[Article]] = relationship(back_populates="writer", passive_deletes=True)

    def __str__(self) -> str:
        return self.name


class Article(IntPK, Timestamps, Model):
    __tablename__ = "admintest_article"
    __app_label__ = "blog"
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(default=False)
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=10), default=Status.draft
    )
    writer_id: Mapped[int | None] = mapped_column(
        ForeignKey("admintest_writer.id", ondelete="CASCADE")
    )
    writer: Mapped[Writer | None] = relationship(back_populates="articles")
    secret_note: Mapped[str] = mapped_column(String(50), default="")

    def __str__(self) -> str:
        return self.title


class Memo(IntPK, Versioned, Model):
    __tablename__ = "admintest_memo"
    __app_label__ = "blog"
    text: Mapped[str] = mapped_column(String(200))

    def __str__(self) -> str:
        return self.text


@action(description="Publish selected articles")
async def publish(model_admin: Any, request: Any, session: Any, objects: list[Article]) -> str:
    for article in objects:
        article.published = True
    return f"published {len(objects)}"


class ArticleAdmin(ModelAdmin):
    list_display = ("title", "writer__name", "published", "status", "created_at")
    list_filter = ("published", "status", "writer", "created_at")
    search_fields = ("title", "writer__name")
    readonly_fields = ("created_at",)
    exclude = ("secret_note",)
    actions = (publish,)
    date_hierarchy = "created_at"
    list_per_page = 5
    autocomplete_fields = ("writer",)
    save_as = True


class WriterAdmin(ModelAdmin):
    list_display = ("name", "email")
    search_fields = ("name", "email")
    ordering = ("name",)
    list_editable = ("email",)


def make_app(db: Database, **options: Any) -> tuple[App, Auth, Admin]:
    app = App()
    db.init_app(app)
    auth = Auth(db, secret_key=SECRET, session_store=MemoryStore(), site_url="http://testserver")
    auth.init_app(app)
    admin = Admin(db, auth, **options)
    admin.register(Article, ArticleAdmin)
    admin.register(Writer, WriterAdmin)
    admin.register(Memo)
    admin.init_app(app)
    return app, auth, admin


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return match.group(1)
