"""Create the task outbox table, `trivium_task_outbox`.

Revision ID: tasks_0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trivium.db import UTCDateTime

revision = "tasks_0001"
down_revision: str | None = None
branch_labels = ("tasks",)
depends_on: str | None = None

_TABLE = "trivium_task_outbox"


def upgrade() -> None:
    """Create the table and its index."""
    op.create_table(
        _TABLE,
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("queue", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("eta", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trivium_task_outbox")),
    )
    op.create_index(op.f("ix_trivium_task_outbox_created_at"), _TABLE, ["created_at"], unique=False)


def downgrade() -> None:
    """Drop the table."""
    op.drop_index(op.f("ix_trivium_task_outbox_created_at"), table_name=_TABLE)
    op.drop_table(_TABLE)
