"""Models and an app with the admin, shared by the admin's tests."""

from __future__ import annotations

import decimal
import enum
import re
from typing import Any

import httpx
from sqlalchemy import Column
from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from trivium import App
from trivium.admin import Admin
from trivium.admin import ModelAdmin
from trivium.admin import StackedInline
from trivium.admin import TabularInline
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
    # Classes, not names: other tests' models in the same registry may share them.
    articles: Mapped[list[Article]] = relationship(
        lambda: Article, back_populates="writer", passive_deletes=True
    )

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
    writer: Mapped[Writer | None] = relationship(lambda: Writer, back_populates="articles")
    secret_note: Mapped[str] = mapped_column(String(50), default="")
    comments: Mapped[list[ArticleComment]] = relationship(
        lambda: ArticleComment, passive_deletes=True
    )
    tags: Mapped[list[ArticleTag]] = relationship(
        lambda: ArticleTag, secondary=lambda: article_tags
    )

    def __str__(self) -> str:
        return self.title


article_tags = Table(
    "admintest_article_tag",
    Model.metadata,
    Column("article_id", ForeignKey("admintest_article.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("admintest_tag.id", ondelete="CASCADE"), primary_key=True),
)


class ArticleTag(IntPK, Model):
    __tablename__ = "admintest_tag"
    __app_label__ = "blog"
    name: Mapped[str] = mapped_column(String(50))

    def __str__(self) -> str:
        return self.name


class ArticleComment(IntPK, Model):
    __tablename__ = "admintest_comment"
    __app_label__ = "blog"
    article_id: Mapped[int] = mapped_column(ForeignKey("admintest_article.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(String(500), default="")
    approved: Mapped[bool] = mapped_column(default=False)


class WriterNote(IntPK, Model):
    """Protects its writer (a key without ON DELETE) and loses its article (SET NULL)."""

    __tablename__ = "admintest_writer_note"
    __app_label__ = "blog"
    writer_id: Mapped[int] = mapped_column(ForeignKey("admintest_writer.id"))
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("admintest_article.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(String(100))

    def __str__(self) -> str:
        return self.text


class Memo(IntPK, Versioned, Model):
    __tablename__ = "admintest_memo"
    __app_label__ = "blog"
    text: Mapped[str] = mapped_column(String(200))

    def __str__(self) -> str:
        return self.text


class Coupon(IntPK, Model):
    """A unique code and a `Numeric(8, 2)` amount."""

    __tablename__ = "admintest_coupon"
    __app_label__ = "shop"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    amount: Mapped[decimal.Decimal] = mapped_column(Numeric(8, 2), default=decimal.Decimal(0))

    def __str__(self) -> str:
        return self.code


@action(description="Publish selected articles")
async def publish(model_admin: Any, request: Any, session: Any, objects: list[Article]) -> str:
    for article in objects:
        article.published = True
    return f"published {len(objects)}"


class CommentInline(TabularInline):
    relation = "comments"
    fields = ("author", "text", "approved")
    extra = 2


class TagInline(StackedInline):
    relation = "tags"
    max_num = 3


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
    inlines = (CommentInline, TagInline)


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


_HASH: list[str] = []


async def seed(db: Database, articles: int = 12) -> None:
    """A superuser, a staff user without permissions, a writer and `articles` articles."""
    from trivium.auth import create_superuser
    from trivium.auth import create_user
    from trivium.auth import hash_password

    if not _HASH:
        _HASH.append(await hash_password(PASSWORD))
    async with db.sessionmaker() as session:
        # One Argon2 hash for every user of every test: hashing is the slow part.
        for user in [
            await create_superuser(session, email="root@example.com"),
            await create_user(session, email="staff@example.com", is_staff=True),
            await create_user(session, email="plain@example.com"),
        ]:
            user.password = _HASH[0]
        writer = Writer(name="Ursula", email="u@example.org")
        other = Writer(name="Octavia", email="o@example.org")
        session.add_all([writer, other])
        for number in range(articles):
            session.add(
                Article(
                    title=f"Post {number:02d}",
                    writer=writer if number % 3 else other,
                    published=number % 2 == 0,
                    status=Status.live if number % 4 == 0 else Status.draft,
                )
            )
        await session.commit()
    await db.dispose()


def twin(db: Database) -> Database:
    """Another `Database` on `db`'s URL, for a test's own queries while an app runs on `db`."""
    return Database(db.url.render_as_string(hide_password=False))


async def grant(db: Database, email: str, *codenames: str) -> None:
    """Give the user `email` the permissions `codenames`."""
    from sqlalchemy import select

    db = twin(db)
    from trivium.auth import User
    from trivium.auth import ensure_permissions

    async with db.sessionmaker() as session:
        user = (await session.scalars(select(User).where(User.email == email))).one()
        permissions = await ensure_permissions(session, custom=[(c, c) for c in codenames])
        (await user.awaitable_attrs.user_permissions).extend(permissions)
        await session.commit()
    await db.dispose()


def log_in(client: Any, email: str) -> None:
    """Log `client` in through the admin's login page."""
    page = client.get("/admin/accounts/login")
    answer = client.post(
        "/admin/accounts/login",
        data={"identifier": email, "password": PASSWORD, "csrf_token": csrf_of(page)},
    )
    assert answer.status_code == 303, answer.text
