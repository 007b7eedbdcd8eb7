"""The declarative base `Model` and its mixins (integer or UUID keys, timestamps).

`Model.metadata` carries a naming convention so every index and constraint gets a stable,
predictable name: migrations can then drop or alter them by name on every backend.
"""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from sqlalchemy import DateTime
from sqlalchemy import MetaData
from sqlalchemy import Uuid
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator

from trivium.db._query import QuerySet

if TYPE_CHECKING:
    from typing import Self

    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.types import TypeEngine

__all__ = [
    "NAMING_CONVENTION",
    "UUIDPK",
    "IntPK",
    "Model",
    "Timestamps",
    "UTCDateTime",
    "in_utc_range",
    "utcnow",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names by kind, as SQLAlchemy's `MetaData(naming_convention=...)` reads them."""


def utcnow() -> datetime.datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.datetime.now(datetime.UTC)


def in_utc_range(value: datetime.datetime) -> datetime.datetime:
    """Return `value` if it has a UTC equivalent (years 1 to 9999), as `UTCDateTime` stores it.

    `9999-12-31T23:00:00-14:00` is a valid datetime, but in UTC it falls in year 10000,
    which Python's `datetime` cannot hold.

    Raises:
        ValueError: the value in UTC falls outside years 1 to 9999.
    """
    if value.tzinfo is not None:
        try:
            value.astimezone(datetime.UTC)
        except OverflowError:
            raise ValueError(f"{value.isoformat()} is outside years 1 to 9999 in UTC") from None
    return value


class UTCDateTime(TypeDecorator[datetime.datetime]):
    """A timezone-aware datetime column that reads back aware on every backend.

    PostgreSQL stores the offset; SQLite and MariaDB do not, so values are stored there
    as naive UTC and given `tzinfo=UTC` when read. Naive values are refused on write.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime.datetime]:
        """The Python type of the values: `datetime.datetime` (timezone-aware)."""
        return datetime.datetime

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Keep microseconds on MariaDB/MySQL (`DATETIME(6)`)."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        """Convert an aware datetime to UTC (naive UTC where the backend has no offsets)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give it a timezone (e.g. UTC)")
        value = in_utc_range(value).astimezone(datetime.UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        """Return the stored value as an aware UTC datetime."""
        del dialect
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=datetime.UTC)


class Model(AsyncAttrs, DeclarativeBase):
    """Base class of your models: SQLAlchemy 2 declarative mapping plus `objects()` queries.

    ```python
    class Article(IntPK, Timestamps, Model):
        __tablename__ = "articles"
        title: Mapped[str] = mapped_column(String(200))
    ```
    """

    __abstract__ = True

    metadata: ClassVar[MetaData] = MetaData(naming_convention=NAMING_CONVENTION)
    """The tables of every model, with stable constraint names."""

    @classmethod
    def objects(cls, session: AsyncSession) -> QuerySet[Self]:
        """Start a query over this model's rows in `session`."""
        return QuerySet(cls, session)

    def __repr__(self) -> str:
        mapper = self.__mapper__
        names = [mapper.get_property_by_column(column).key for column in mapper.primary_key]
        keys = ", ".join(f"{name}={getattr(self, name, None)!r}" for name in names)
        return f"{type(self).__name__}({keys})"

    def to_dict(self) -> dict[str, Any]:
        """Return the loaded column values by attribute name."""
        return {attr.key: getattr(self, attr.key) for attr in self.__mapper__.column_attrs}


class IntPK:
    """Mixin: an auto-incrementing integer primary key `id`."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-10)


class UUIDPK:
    """Mixin: a random UUID (version 4) primary key `id`, generated in Python."""

    id: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, default=uuid.uuid4, sort_order=-10
    )


class Timestamps:
    """Mixin: timezone-aware `created_at` and `updated_at`, set in UTC on insert and update."""

    created_at: Mapped[datetime.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, sort_order=100
    )
    updated_at: Mapped[datetime.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, sort_order=100
    )
