"""Create the auth tables: permissions, groups, users, their links, API and refresh tokens.

Revision ID: auth_0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "auth_0001"
down_revision: str | None = None
branch_labels = ("auth",)
depends_on: str | None = None

# Timezone-aware timestamps; MariaDB/MySQL keep microseconds (as trivium.db.UTCDateTime).
_TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def _link(table: str, left: str, left_target: str, right: str, right_target: str) -> None:
    op.create_table(
        table,
        sa.Column(left, sa.Integer(), nullable=False),
        sa.Column(right, sa.Integer(), nullable=False),
        _pk(table, left, right),
        _fk(table, left, left_target),
        _fk(table, right, right_target),
    )


def _create_principals() -> None:
    op.create_table(
        "auth_permission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("codename", sa.String(100), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        _pk("auth_permission", "id"),
        sa.UniqueConstraint("codename", name=op.f("uq_auth_permission_codename")),
    )
    op.create_table(
        "auth_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(150), nullable=False),
        _pk("auth_group", "id"),
        sa.UniqueConstraint("name", name=op.f("uq_auth_group_name")),
    )
    op.create_table(
        "auth_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("username", sa.String(150), nullable=True),
        sa.Column("password", sa.String(255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_staff", sa.Boolean(), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), nullable=False),
        sa.Column("last_login", _TIMESTAMP, nullable=True),
        sa.Column("date_joined", _TIMESTAMP, nullable=False),
        _pk("auth_user", "id"),
        sa.UniqueConstraint("email", name=op.f("uq_auth_user_email")),
        sa.UniqueConstraint("username", name=op.f("uq_auth_user_username")),
    )
    _link("auth_group_permissions", "group_id", "auth_group", "permission_id", "auth_permission")
    _link("auth_user_groups", "user_id", "auth_user", "group_id", "auth_group")
    _link("auth_user_permissions", "user_id", "auth_user", "permission_id", "auth_permission")


def _create_tokens() -> None:
    op.create_table(
        "auth_api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("expires_at", _TIMESTAMP, nullable=True),
        sa.Column("last_used_at", _TIMESTAMP, nullable=True),
        sa.Column("revoked_at", _TIMESTAMP, nullable=True),
        _pk("auth_api_token", "id"),
        _fk("auth_api_token", "user_id", "auth_user"),
    )
    op.create_index(op.f("ix_auth_api_token_prefix"), "auth_api_token", ["prefix"])
    op.create_table(
        "auth_refresh_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("expires_at", _TIMESTAMP, nullable=False),
        sa.Column("revoked_at", _TIMESTAMP, nullable=True),
        sa.Column("replaced_by", sa.String(64), nullable=True),
        _pk("auth_refresh_token", "id"),
        sa.UniqueConstraint("jti", name=op.f("uq_auth_refresh_token_jti")),
        _fk("auth_refresh_token", "user_id", "auth_user"),
    )
    op.create_index(op.f("ix_auth_refresh_token_family"), "auth_refresh_token", ["family"])


def upgrade() -> None:
    """Create the auth tables."""
    _create_principals()
    _create_tokens()


def downgrade() -> None:
    """Drop the auth tables, dependents first."""
    op.drop_index(op.f("ix_auth_refresh_token_family"), table_name="auth_refresh_token")
    op.drop_table("auth_refresh_token")
    op.drop_index(op.f("ix_auth_api_token_prefix"), table_name="auth_api_token")
    op.drop_table("auth_api_token")
    op.drop_table("auth_user_permissions")
    op.drop_table("auth_user_groups")
    op.drop_table("auth_group_permissions")
    op.drop_table("auth_user")
    op.drop_table("auth_group")
    op.drop_table("auth_permission")
