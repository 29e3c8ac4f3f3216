"""A Page sync counts its failures in a row, so its backoff grows with them and resets.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add messenger_syncs.failures."""
    with op.batch_alter_table("messenger_syncs") as syncs:
        syncs.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop messenger_syncs.failures."""
    with op.batch_alter_table("messenger_syncs") as syncs:
        syncs.drop_column("failures")
