"""The event outbox: engine events stored with the facts they tell, until published.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen copies of the models' column types: this revision must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the event_outbox table."""
    op.create_table(
        "event_outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
    )
    op.create_index(op.f("ix_event_outbox_created_at"), "event_outbox", ["created_at"])


def downgrade() -> None:
    """Drop the event_outbox table."""
    op.drop_index(op.f("ix_event_outbox_created_at"), table_name="event_outbox")
    op.drop_table("event_outbox")
