"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | tuple[str, ...] | None = ${repr(tuple(down_revision) if isinstance(down_revision, list) else down_revision)}
branch_labels: str | tuple[str, ...] | None = ${repr(tuple(branch_labels) if isinstance(branch_labels, list) else branch_labels)}
depends_on: str | tuple[str, ...] | None = ${repr(tuple(depends_on) if isinstance(depends_on, list) else depends_on)}


def upgrade() -> None:
    """Apply this revision."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """Revert this revision."""
    ${downgrades if downgrades else "pass"}
