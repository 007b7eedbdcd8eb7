"""Models shared by the audit tests (tables with a per-run suffix)."""

from __future__ import annotations

import decimal
import uuid

from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from trivium.db import UUIDPK
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Timestamps

SUFFIX = uuid.uuid4().hex[:6]

book_tags = Table(
    f"au_bt_{SUFFIX}",
    Model.metadata,
    Column("book_id", ForeignKey(f"au_bk_{SUFFIX}.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey(f"au_tg_{SUFFIX}.id", ondelete="CASCADE"), primary_key=True),
)


class Author(IntPK, Model):
    __tablename__ = f"au_au_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list[Book]] = relationship(lambda: Book, back_populates="author")


class Book(IntPK, Timestamps, Model):
    __tablename__ = f"au_bk_{SUFFIX}"
    title: Mapped[str] = mapped_column(String(50))
    pages: Mapped[int] = mapped_column(default=1)
    author_id: Mapped[int | None] = mapped_column(ForeignKey(Author.id), default=None)
    author: Mapped[Author | None] = relationship(lambda: Author, back_populates="books")
    tags: Mapped[list[Tag]] = relationship(lambda: Tag, secondary=book_tags, back_populates="books")


class Tag(IntPK, Model):
    __tablename__ = f"au_tg_{SUFFIX}"
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list[Book]] = relationship(
        lambda: Book, secondary=book_tags, back_populates="tags"
    )


class Account(IntPK, Model):
    __tablename__ = f"au_ac_{SUFFIX}"
    username: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    pin: Mapped[str] = mapped_column(String(10), default="", info={"secret": True})
    note: Mapped[str] = mapped_column(String(50), default="")


class Seat(Model):
    """A composite primary key."""

    __tablename__ = f"au_st_{SUFFIX}"
    room: Mapped[str] = mapped_column(String(10), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(50), default="")


class Ticket(UUIDPK, Model):
    """A UUID primary key."""

    __tablename__ = f"au_tk_{SUFFIX}"
    subject: Mapped[str] = mapped_column(String(50))


class Price(IntPK, Model):
    """An exact decimal the database rounds to two places."""

    __tablename__ = f"au_pr_{SUFFIX}"
    amount: Mapped[decimal.Decimal] = mapped_column(Numeric(8, 2))
