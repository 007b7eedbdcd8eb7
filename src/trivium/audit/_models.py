"""`AuditEntry`: one row of the audit trail, one per object written (table `trivium_audit`).

An entry says who (`actor_kind`, `actor_id`, `token_id`, `request_id`) did what
(`action`) to which object (`model`, the table name, and `object_pk`) and when
(`created_at`), with the fields that changed: `changes` maps each field to its
`[before, after]` pair of JSON values (`before` is `None` on a create, `after` on a
delete; a many-to-many relationship's value is the sorted list of the related keys).
Secret values are replaced by `REDACTED`.
"""

from __future__ import annotations

import datetime
import json
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from trivium.db import Model
from trivium.db import UTCDateTime
from trivium.db import utcnow

__all__ = ["REDACTED", "TABLE", "Action", "ActorKind", "AuditEntry", "AuditEntryRead", "encode_pk"]

TABLE = "trivium_audit"
"""The audit trail's table name."""
REDACTED = "[redacted]"
"""What an entry holds instead of a secret value (a password hash, a token hash)."""

Action = Literal["create", "update", "delete"]
"""What was done to the object."""
ActorKind = Literal["user", "token", "jwt", "system", "anonymous"]
"""Who did it: a logged-in user (`"user"`), an API token (`"token"`) or a JWT (`"jwt"`)
acting for a user, code outside any request (`"system"`: scripts, tasks, commands), or
an unauthenticated request (`"anonymous"`)."""

# SQLite only auto-increments an INTEGER PRIMARY KEY; elsewhere the id is 64 bits.
_ID = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Model):
    """One audited write: who changed which object, how, when, and the fields' before/after values.

    Read entries with `Audit.history` and `Audit.log`; never write them yourself.
    """

    __tablename__ = TABLE
    __table_args__ = (
        Index("ix_trivium_audit_model_object_pk_id", "model", "object_pk", "id"),
        Index("ix_trivium_audit_created_at", "created_at"),
        Index("ix_trivium_audit_actor_id", "actor_id"),
        Index("ix_trivium_audit_request_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    """Increasing with time: newer entries have larger ids (the order of `history` and `log`)."""
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    """When the write was made (UTC)."""
    action: Mapped[str] = mapped_column(String(10))
    """`"create"`, `"update"` or `"delete"`."""
    model: Mapped[str] = mapped_column(String(128))
    """The table name of the object's model."""
    object_pk: Mapped[str] = mapped_column(String(255))
    """The object's primary key as text (a JSON array for a composite key; see `encode_pk`)."""
    actor_kind: Mapped[str] = mapped_column(String(16))
    """`"user"`, `"token"`, `"jwt"`, `"system"` or `"anonymous"` (see `ActorKind`)."""
    actor_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """The acting user's id as text; for `"system"` the name given to `actor(name=...)`."""
    token_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """The API token's id (or the JWT's `jti`) the request was authenticated with."""
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)
    """The id of the request that made the write (`None` outside requests)."""
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """`{field: [before, after]}` for each field written (every field on create and delete)."""

    @property
    def before(self) -> dict[str, Any]:
        """The fields' values before the write (empty for a create)."""
        if self.action == "create":
            return {}
        return {name: pair[0] for name, pair in self.changes.items()}

    @property
    def after(self) -> dict[str, Any]:
        """The fields' values after the write (empty for a delete)."""
        if self.action == "delete":
            return {}
        return {name: pair[1] for name, pair in self.changes.items()}

    def __repr__(self) -> str:
        return f"AuditEntry(id={self.id!r}, {self.action} {self.model} {self.object_pk})"


def encode_pk(values: tuple[Any, ...]) -> str:
    """Return the text form of a primary key: the value for one column, a JSON array for several.

    `UUID`s and other values are written with `str()`.
    """
    if len(values) == 1:
        return str(values[0])
    return json.dumps([v if isinstance(v, int | str) else str(v) for v in values])


class AuditEntryRead(BaseModel):
    """An `AuditEntry` as JSON: `AuditEntryRead.model_validate(entry)` in a handler's answer."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    """The entry's id (newer entries have larger ids)."""
    created_at: datetime.datetime
    """When the write was made (UTC)."""
    action: str
    """`"create"`, `"update"` or `"delete"`."""
    model: str
    """The table name of the object's model."""
    object_pk: str
    """The object's primary key as text."""
    actor_kind: str
    """Who wrote: `"user"`, `"token"`, `"jwt"`, `"system"` or `"anonymous"`."""
    actor_id: str | None
    """The user's id (or a system actor's name)."""
    token_id: str | None
    """The API token's id or the JWT's `jti`."""
    request_id: str | None
    """The request's id."""
    changes: dict[str, Any]
    """`{field: [before, after]}`."""
