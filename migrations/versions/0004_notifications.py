"""Notifications: the emails telling members that a visitor has waited too long.

Revision ID: 0004
Revises: 0003
Create Date: 2026-01-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen copies of the models' column types: this revision must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


def upgrade() -> None:
    """Create the notifications table."""
    allowed = ", ".join(f"'{status}'" for status in STATUSES)
    op.create_table(
        "notifications",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("waiting_since", TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("send_after", TIME, nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("sent_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_notifications_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_notifications_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(f"status IN ({allowed})", name=op.f("ck_notifications_status")),
    )
    op.create_index(op.f("ix_notifications_conversation_id"), "notifications", ["conversation_id"])
    op.create_index(
        op.f("ix_notifications_status_send_after"), "notifications", ["status", "send_after"]
    )


def downgrade() -> None:
    """Drop it again."""
    op.drop_table("notifications")
