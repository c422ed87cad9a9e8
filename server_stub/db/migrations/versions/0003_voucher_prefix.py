"""terminal voucher prefix

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("terminals", sa.Column("voucher_prefix", sa.Integer(), nullable=True))
    op.create_index("ux_terminals_voucher_prefix", "terminals", ["voucher_prefix"], unique=True)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ux_terminals_voucher_prefix", table_name="terminals")
    op.drop_column("terminals", "voucher_prefix")
