"""Index the conversation list's order (last activity, then id) within a workspace.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-02

The list is read newest activity first, and by default across both statuses, which the
(workspace, status, activity) index of 0001 cannot serve without sorting every row of the
workspace; the id makes the order total, as the list's cursor needs.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "ix_conversations_workspace_activity"


def upgrade() -> None:
    """Create the index on (workspace_id, last_activity_at, id)."""
    op.create_index(op.f(INDEX), "conversations", ["workspace_id", "last_activity_at", "id"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index(op.f(INDEX), table_name="conversations")
