"""An agent's reply keeps the id its client chose, so a retried call stores it once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add messages.client_id, unique within a conversation."""
    with op.batch_alter_table("messages") as messages:
        messages.add_column(sa.Column("client_id", sa.String(64), nullable=True))
        messages.create_unique_constraint(
            op.f("uq_messages_conversation_id_client_id"), ["conversation_id", "client_id"]
        )


def downgrade() -> None:
    """Drop messages.client_id."""
    with op.batch_alter_table("messages") as messages:
        messages.drop_constraint(op.f("uq_messages_conversation_id_client_id"), type_="unique")
        messages.drop_column("client_id")
