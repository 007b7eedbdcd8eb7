"""Create the audit trail's table, `trivium_audit`.

Revision ID: audit_0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trivium.db import UTCDateTime

revision = "audit_0001"
down_revision: str | None = None
branch_labels = ("audit",)
depends_on: str | None = None

_TABLE = "trivium_audit"
_INDEXES = {
    "ix_trivium_audit_model_object_pk_id": ["model", "object_pk", "id"],
    "ix_trivium_audit_created_at": ["created_at"],
    "ix_trivium_audit_actor_id": ["actor_id"],
    "ix_trivium_audit_request_id": ["request_id"],
}


def upgrade() -> None:
    """Create the table and its indexes."""
    op.create_table(
        _TABLE,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("object_pk", sa.String(255), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("token_id", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trivium_audit")),
    )
    for name, columns in _INDEXES.items():
        op.create_index(op.f(name), _TABLE, columns, unique=False)


def downgrade() -> None:
    """Drop the table."""
    for name in _INDEXES:
        op.drop_index(op.f(name), table_name=_TABLE)
    op.drop_table(_TABLE)
