"""An outbox event that no longer reads as an event is kept with the reason, not relayed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add event_outbox.error."""
    with op.batch_alter_table("event_outbox") as outbox:
        outbox.add_column(sa.Column("error", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop event_outbox.error."""
    with op.batch_alter_table("event_outbox") as outbox:
        outbox.drop_column("error")
