"""Normalise stored emails and user names, and compare them byte for byte on MariaDB.

Revision ID: auth_0002
Revises: auth_0001
Create Date: 2026-12-04

Existing emails and user names are rewritten in trivium.auth's canonical form (Unicode
NFKC and case folding, see `trivium.auth.normalize_email`). Two accounts whose names
differ only by case (`Ada`, `ada`) then collide: the upgrade stops with the database's
unique-constraint error, and one of them must be renamed first. On MariaDB and MySQL the
two columns get the binary collation `utf8mb4_bin`, so `álice` and `alice` are two
accounts there as on PostgreSQL and SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from trivium.auth._identity import normalize_identifier

revision = "auth_0002"
down_revision: str | None = "auth_0001"
branch_labels: tuple[str, ...] | None = None
depends_on: str | None = None

_COLUMNS = (("email", 254), ("username", 150))
_USERS = sa.table("auth_user", sa.column("id"), sa.column("email"), sa.column("username"))


def _normalise_rows() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_USERS.c.id, _USERS.c.email, _USERS.c.username)).all()
    for user_id, email, username in rows:
        new_email = normalize_identifier(email) or None if email else None
        new_username = normalize_identifier(username) or None if username else None
        if (new_email, new_username) != (email, username):
            bind.execute(
                sa.update(_USERS)
                .where(_USERS.c.id == user_id)
                .values(email=new_email, username=new_username)
            )


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    """Normalise the rows, then make MariaDB/MySQL compare the columns exactly."""
    _normalise_rows()
    if _is_mysql():
        for name, length in _COLUMNS:
            op.alter_column(
                "auth_user",
                name,
                existing_type=sa.String(length),
                type_=mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"),
                existing_nullable=True,
            )


def downgrade() -> None:
    """Give MariaDB/MySQL the table's default collation back (the rows stay normalised)."""
    if _is_mysql():
        for name, length in _COLUMNS:
            op.alter_column(
                "auth_user",
                name,
                existing_type=mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"),
                type_=sa.String(length),
                existing_nullable=True,
            )
