"""Each contact's events numbered in the order they were stored, for the engine's order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add contacts.event_seq, the number of the contact's last event told to the engine."""
    with op.batch_alter_table("contacts") as contacts:
        contacts.add_column(
            sa.Column("event_seq", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    """Drop contacts.event_seq."""
    with op.batch_alter_table("contacts") as contacts:
        contacts.drop_column("event_seq")
