"""A message keeps the id its client chose, so a retried call stores it once.

The widget's messages kept theirs in channel_message_id, as "<conversation id>:<client id>";
they move to the new column.

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


_MESSAGES = sa.table(
    "messages",
    sa.column("id", sa.BigInteger),
    sa.column("conversation_id", sa.BigInteger),
    sa.column("channel", sa.String),
    sa.column("channel_message_id", sa.String),
    sa.column("client_id", sa.String),
)


def upgrade() -> None:
    """Add messages.client_id, unique within a conversation; move the widget's there."""
    with op.batch_alter_table("messages") as messages:
        messages.add_column(sa.Column("client_id", sa.String(64), nullable=True))
        messages.create_unique_constraint(
            op.f("uq_messages_conversation_id_client_id"), ["conversation_id", "client_id"]
        )
    connection = op.get_bind()
    widget = connection.execute(
        sa.select(_MESSAGES.c.id, _MESSAGES.c.channel_message_id).where(
            _MESSAGES.c.channel == "widget", _MESSAGES.c.channel_message_id.is_not(None)
        )
    ).all()
    for message_id, kept in widget:
        connection.execute(
            _MESSAGES.update()
            .where(_MESSAGES.c.id == message_id)
            .values(client_id=kept.partition(":")[2], channel_message_id=None)
        )


def downgrade() -> None:
    """Drop messages.client_id; the widget's go back to channel_message_id."""
    connection = op.get_bind()
    widget = connection.execute(
        sa.select(_MESSAGES.c.id, _MESSAGES.c.conversation_id, _MESSAGES.c.client_id).where(
            _MESSAGES.c.channel == "widget", _MESSAGES.c.client_id.is_not(None)
        )
    ).all()
    for message_id, conversation_id, client_id in widget:
        connection.execute(
            _MESSAGES.update()
            .where(_MESSAGES.c.id == message_id)
            .values(channel_message_id=f"{conversation_id}:{client_id}")
        )
    with op.batch_alter_table("messages") as messages:
        messages.drop_constraint(op.f("uq_messages_conversation_id_client_id"), type_="unique")
        messages.drop_column("client_id")
