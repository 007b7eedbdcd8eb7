"""Create the `trivium_store` table of `trivium.stores.DatabaseStore`.

Revision ID: trivium_stores_0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from trivium.db import UTCDateTime

revision = "trivium_stores_0001"
down_revision = None
branch_labels = ("stores",)
depends_on = None


def upgrade() -> None:
    """Create the table and its expiry index."""
    op.create_table(
        "trivium_store",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column(
            "value",
            sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_trivium_store")),
    )
    op.create_index(
        op.f("ix_trivium_store_expires_at"), "trivium_store", ["expires_at"], unique=False
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_index(op.f("ix_trivium_store_expires_at"), table_name="trivium_store")
    op.drop_table("trivium_store")
