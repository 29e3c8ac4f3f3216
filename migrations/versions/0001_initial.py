"""The chat layer's first tables: workspaces, members, contacts, conversations, messages.

Revision ID: 0001
Revises:
Create Date: 2026-01-01

Written by hand to match chat/models.py; tests/chat checks that the two agree. Every name is
given in full (op.f), as the models' naming convention makes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the models' column types: this revision must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)
CHANNELS = ("messenger", "widget")


def upgrade() -> None:
    """Create every table of the chat layer."""
    create_workspaces()
    create_members()
    create_api_tokens()
    create_contacts()
    create_channel_identities()
    create_conversations()
    create_messages()
    create_executed_commands()


def downgrade() -> None:
    """Drop every table of the chat layer, dependents first."""
    for table in (
        "executed_commands",
        "messages",
        "conversations",
        "channel_identities",
        "contacts",
        "api_tokens",
        "members",
        "workspaces",
    ):
        op.drop_table(table)


def key(table: str) -> tuple[sa.Column[int], sa.PrimaryKeyConstraint]:
    """The `id` column and its named primary key."""
    return sa.Column("id", ID, nullable=False), sa.PrimaryKeyConstraint(
        "id", name=op.f(f"pk_{table}")
    )


def refers(table: str, column: str, target: str, on_delete: str) -> sa.ForeignKeyConstraint:
    """A foreign key from `table.column` to `target.id`, named as the convention names it."""
    name = op.f(f"fk_{table}_{column}_{target}")
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=name, ondelete=on_delete)


def one_of(table: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    """The CHECK constraint behind the models' string choices."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}"))


def create_workspaces() -> None:
    """Workspaces: the businesses using Parley."""
    op.create_table(
        "workspaces",
        *key("workspaces"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("notify_by_email", sa.Boolean(), nullable=False),
        sa.Column("notify_after_minutes", sa.Integer(), nullable=False),
    )


def create_members() -> None:
    """Members: the people who answer, one email once per workspace."""
    op.create_table(
        "members",
        *key("members"),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("permissions", JSON_LIST, nullable=False),
        sa.Column("show_visitor_tags", sa.Boolean(), nullable=False),
        sa.Column("prefer_remark_name", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        refers("members", "workspace_id", "workspaces", "CASCADE"),
        sa.UniqueConstraint("workspace_id", "email", name=op.f("uq_members_workspace_id_email")),
        one_of("members", "role", ("owner", "admin", "agent")),
    )


def create_api_tokens() -> None:
    """API tokens: a member's tokens, kept as SHA-256 only."""
    op.create_table(
        "api_tokens",
        *key("api_tokens"),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(8), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("last_used_at", TIME, nullable=True),
        refers("api_tokens", "member_id", "members", "CASCADE"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_member_id"), "api_tokens", ["member_id"])


def create_contacts() -> None:
    """Contacts: the people who write in, found by remark name within a workspace."""
    op.create_table(
        "contacts",
        *key("contacts"),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("remark_name", sa.String(100), nullable=True),
        sa.Column("phone", sa.String(16), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("tags", JSON_LIST, nullable=False),
        sa.Column("first_seen_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        refers("contacts", "workspace_id", "workspaces", "CASCADE"),
    )
    op.create_index(
        op.f("ix_contacts_workspace_id_remark_name"), "contacts", ["workspace_id", "remark_name"]
    )


def create_channel_identities() -> None:
    """Channel identities: who a contact is on Messenger (per Page) or the widget."""
    op.create_table(
        "channel_identities",
        *key("channel_identities"),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        refers("channel_identities", "contact_id", "contacts", "CASCADE"),
        sa.UniqueConstraint(
            "channel",
            "account",
            "external_id",
            name=op.f("uq_channel_identities_channel_account_external_id"),
        ),
        one_of("channel_identities", "channel", CHANNELS),
    )
    op.create_index(op.f("ix_channel_identities_contact_id"), "channel_identities", ["contact_id"])


def create_conversations() -> None:
    """Conversations, with their figures, indexed for the conversation list's filters."""
    op.create_table(
        "conversations",
        *key("conversations"),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee_id", ID, nullable=True),
        sa.Column("hosting", sa.Boolean(), nullable=False),
        sa.Column("is_new_visitor", sa.Boolean(), nullable=False),
        sa.Column("tags", JSON_LIST, nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("ended_at", TIME, nullable=True),
        sa.Column("last_activity_at", TIME, nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("visitor_message_count", sa.Integer(), nullable=False),
        sa.Column("agent_message_count", sa.Integer(), nullable=False),
        sa.Column("first_visitor_message_at", TIME, nullable=True),
        sa.Column("first_response_seconds", sa.Integer(), nullable=True),
        sa.Column("waiting_since", TIME, nullable=True),
        refers("conversations", "workspace_id", "workspaces", "CASCADE"),
        refers("conversations", "contact_id", "contacts", "CASCADE"),
        refers("conversations", "assignee_id", "members", "SET NULL"),
        one_of("conversations", "channel", CHANNELS),
        one_of("conversations", "status", ("ongoing", "ended")),
    )
    create_conversation_indexes()


def create_conversation_indexes() -> None:
    """The indexes behind the conversation list: by status and activity, assignee, arrival."""
    for name, columns in (
        ("ix_conversations_contact_id", ["contact_id"]),
        (
            "ix_conversations_workspace_status_activity",
            ["workspace_id", "status", "last_activity_at"],
        ),
        ("ix_conversations_workspace_assignee", ["workspace_id", "assignee_id"]),
        ("ix_conversations_workspace_received", ["workspace_id", "received_at"]),
    ):
        op.create_index(op.f(name), "conversations", columns)


def create_messages() -> None:
    """Messages, unique per channel message id so a redelivered webhook stores nothing new."""
    op.create_table(
        "messages",
        *key("messages"),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("member_id", ID, nullable=True),
        sa.Column("flow_id", sa.String(100), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachments", JSON_LIST, nullable=False),
        sa.Column("off_platform", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("channel_message_id", sa.String(255), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        refers("messages", "conversation_id", "conversations", "CASCADE"),
        refers("messages", "member_id", "members", "SET NULL"),
        sa.UniqueConstraint(
            "channel", "channel_message_id", name=op.f("uq_messages_channel_channel_message_id")
        ),
        one_of("messages", "sender", ("visitor", "agent", "bot", "system")),
        one_of("messages", "channel", CHANNELS),
    )
    op.create_index(op.f("ix_messages_conversation_id_id"), "messages", ["conversation_id", "id"])


def create_executed_commands() -> None:
    """Executed commands: engine command keys already acted on."""
    op.create_table(
        "executed_commands",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("executed_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_executed_commands")),
    )
