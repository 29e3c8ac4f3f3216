"""Messenger: connected Pages, contact syncs, and where each outgoing message stands.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-03

Conversations learn their Page (`account`) and when the visitor last wrote (the reply
window runs from it). Messages learn their delivery: the Messenger sender works through the
messages table itself, so a reply is queued in the same transaction that records it.
Columns with CHECK constraints are added in batch mode, which SQLite needs (it rebuilds the
table); PostgreSQL gets plain ALTER TABLE statements.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies of the models' column types: this revision must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)
DELIVERIES = ("pending", "sending", "sent", "delivered", "read", "skipped", "failed")


def upgrade() -> None:
    """Add the Messenger tables and columns."""
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("account", sa.String(64), nullable=True))
        batch.add_column(sa.Column("last_visitor_message_at", TIME, nullable=True))
    op.create_index(
        op.f("uq_conversations_ongoing_on_page"),
        "conversations",
        ["contact_id", "channel", "account"],
        unique=True,
        sqlite_where=sa.text("status = 'ongoing'"),
        postgresql_where=sa.text("status = 'ongoing'"),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("delivery", sa.String(16), nullable=True))
        batch.add_column(sa.Column("delivery_error", sa.String(500), nullable=True))
        batch.add_column(sa.Column("message_tag", sa.String(40), nullable=True))
        batch.add_column(sa.Column("send_after", TIME, nullable=True))
        batch.add_column(
            sa.Column("send_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_check_constraint(op.f("ck_messages_delivery"), _one_of("delivery", DELIVERIES))
        batch.create_index(op.f("ix_messages_delivery_send_after"), ["delivery", "send_after"])
    with op.batch_alter_table("messages") as batch:
        batch.alter_column("send_attempts", server_default=None)
    _create_pages()
    _create_syncs()


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("messenger_syncs")
    op.drop_table("messenger_pages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index(op.f("ix_messages_delivery_send_after"))
        batch.drop_constraint(op.f("ck_messages_delivery"), type_="check")
        for column in ("send_attempts", "send_after", "message_tag", "delivery_error", "delivery"):
            batch.drop_column(column)
    op.drop_index(op.f("uq_conversations_ongoing_on_page"), table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("last_visitor_message_at")
        batch.drop_column("account")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _create_pages() -> None:
    op.create_table(
        "messenger_pages",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("page_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("connected_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messenger_pages")),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_messenger_pages_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("page_id", name=op.f("uq_messenger_pages_page_id")),
    )


def _create_syncs() -> None:
    op.create_table(
        "messenger_syncs",
        sa.Column("id", ID, nullable=False),
        sa.Column("page_id", ID, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("pages_fetched", sa.Integer(), nullable=False),
        sa.Column("contacts_imported", sa.Integer(), nullable=False),
        sa.Column("messages_imported", sa.Integer(), nullable=False),
        sa.Column("errors", JSON_LIST, nullable=False),
        sa.Column("next_request_at", TIME, nullable=False),
        sa.Column("lease_until", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("finished_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messenger_syncs")),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["messenger_pages.id"],
            name=op.f("fk_messenger_syncs_page_id_messenger_pages"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            _one_of("scope", ("recent", "all")), name=op.f("ck_messenger_syncs_scope")
        ),
        sa.CheckConstraint(
            _one_of("status", ("queued", "running", "done", "failed")),
            name=op.f("ck_messenger_syncs_status"),
        ),
    )
    op.create_index(op.f("ix_messenger_syncs_page_id"), "messenger_syncs", ["page_id"])
