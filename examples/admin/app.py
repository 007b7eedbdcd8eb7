"""A blog's admin: `/admin` for two models, with filters, search, an action and autocomplete.

Run it with `trivium run examples.admin.app:app` and create a superuser with
`TRIVIUM_APP=examples.admin.app:app trivium createsuperuser`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from trivium import App
from trivium import Request
from trivium.admin import Admin
from trivium.admin import ModelAdmin
from trivium.admin import TabularInline
from trivium.admin import action
from trivium.auth import Auth
from trivium.db import Database
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Timestamps


# --8<-- [start:models]
class Author(IntPK, Model):
    __tablename__ = "example_admin_author"
    __app_label__ = "blog"
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), default="")
    # The class itself, not its name: other apps in one process may have a `Post` too.
    posts: Mapped[list[Post]] = relationship(
        lambda: Post, back_populates="author", passive_deletes=True
    )

    def __str__(self) -> str:
        return self.name


class Post(IntPK, Timestamps, Model):
    __tablename__ = "example_admin_post"
    __app_label__ = "blog"
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int] = mapped_column(
        ForeignKey("example_admin_author.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[Author] = relationship(lambda: Author, back_populates="posts")
    replies: Mapped[list[Reply]] = relationship(lambda: Reply, passive_deletes=True)

    def __str__(self) -> str:
        return self.title


class Reply(IntPK, Model):
    __tablename__ = "example_admin_reply"
    __app_label__ = "blog"
    post_id: Mapped[int] = mapped_column(
        ForeignKey("example_admin_post.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(String(1000), default="")


# --8<-- [end:models]


# --8<-- [start:admin]
@action(description="Publish selected posts")
async def publish(
    model_admin: ModelAdmin, request: Request, session: AsyncSession, posts: list[Post]
) -> None:
    for post in posts:
        post.published = True


class ReplyInline(TabularInline):
    relation = "replies"
    fields = ("name", "text")


class PostAdmin(ModelAdmin):
    list_display = ("title", "author__name", "published", "created_at")
    list_filter = ("published", "author", "created_at")
    search_fields = ("title", "author__name")
    ordering = ("-id",)
    readonly_fields = ("created_at", "updated_at")
    autocomplete_fields = ("author",)
    date_hierarchy = "created_at"
    actions = (publish,)
    inlines = (ReplyInline,)
    list_per_page = 20


class AuthorAdmin(ModelAdmin):
    list_display = ("name", "email")
    search_fields = ("^name", "email")
    ordering = ("name",)


DATABASE_URL = os.environ.get("ADMIN_EXAMPLE_DATABASE_URL", "sqlite:///./admin-example.db")


def create_app(database_url: str = DATABASE_URL, **auth_options: Any) -> App:
    db = Database(database_url)
    auth = Auth(db, secret_key=os.environ.get("SECRET_KEY", "x" * 48), **auth_options)
    admin = Admin(db, auth)  # pages under /admin, login at /admin/accounts/login
    admin.register(Post, PostAdmin)
    admin.register(Author, AuthorAdmin)
    return App(plugins=[db, auth, admin], lifespan=create_tables)


@contextlib.asynccontextmanager
async def create_tables(app: App) -> AsyncIterator[None]:
    """Create the tables at start-up (a real project runs its migrations instead)."""
    await app.plugin(Database).create_all()
    yield


# --8<-- [end:admin]

app = create_app()
