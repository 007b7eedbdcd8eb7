"""The demo's tables: to-dos, each optionally owned by a `trivium.auth` user.

Schema changes go through migrations (`examples/demo/migrations/`), written with
`trivium db makemigrations --app examples.demo.app:app -m "..."`.
"""

from __future__ import annotations

import datetime
import enum

from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from trivium.auth import User
from trivium.db import IntPK
from trivium.db import Model
from trivium.db import Timestamps


class Priority(enum.Enum):
    """How urgent a to-do is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


# --8<-- [start:model]
class Todo(IntPK, Timestamps, Model):
    """Something to do: `id`, `created_at` and `updated_at` come from the mixins."""

    __tablename__ = "demo_todo"

    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    done: Mapped[bool] = mapped_column(default=False)
    due: Mapped[datetime.date | None] = mapped_column(default=None)
    priority: Mapped[Priority] = mapped_column(
        # Stored as its value in a VARCHAR on every backend (no native ENUM type to migrate).
        Enum(
            Priority, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]
        ),
        default=Priority.NORMAL,
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey(User.id, ondelete="SET NULL"), default=None, index=True
    )
    owner: Mapped[User | None] = relationship(lazy="raise")


# --8<-- [end:model]
