"""The chat layer's tables as typed SQLAlchemy models, the same on SQLite and PostgreSQL.

Times are timezone-aware UTC datetimes in Python, always. `UtcDateTime` refuses naive values,
stores UTC (`timestamptz` on PostgreSQL; text without offset on SQLite, always UTC so it sorts)
and gives back aware UTC datetimes on both databases.
Lists (tags, permissions, attachments) are JSON (`jsonb` on PostgreSQL); tags and permissions
record in-place changes such as `append`.
Choices (role, channel, status, sender) are short strings checked by a CHECK constraint rather
than native enum types, so a new value needs only that constraint replaced.
Every constraint and index has a name (see NAMING), so later migrations can refer to it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from chat.secrets import Sealed

Role = Literal["owner", "admin", "agent"]
Channel = Literal["messenger", "widget"]
Status = Literal["ongoing", "ended"]
Sender = Literal["visitor", "agent", "bot", "system"]
ConversationState = Literal["hosted", "assigned", "unassigned"]
# What became of a message Parley sends out over a channel (None: nothing to send).
Delivery = Literal["pending", "sending", "sent", "delivered", "read", "skipped", "failed"]
SyncScope = Literal["recent", "all"]
SyncStatus = Literal["queued", "running", "done", "failed"]
NotificationStatus = Literal["pending", "sending", "sent", "failed", "cancelled"]

PERMISSIONS = frozenset(
    {"conversations.view_all", "conversation_tags.manage", "contacts.edit", "settings.manage"}
)
# Owners and admins hold every permission without it being listed on them.
ALL_PERMISSIONS_ROLES = frozenset({"owner", "admin"})

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit ids on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
ID = BigInteger().with_variant(Integer(), "sqlite")
JSON_LIST = JSON().with_variant(JSONB(), "postgresql")


def holds(role: str, permissions: Collection[str], permission: str) -> bool:
    """Whether a member of `role` with `permissions` listed holds `permission`."""
    return role in ALL_PERMISSIONS_ROLES or permission in permissions


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A datetime stored in UTC and read back timezone-aware; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; SQLite keeps no offset, so it gets the UTC wall time."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: give it a timezone (UTC)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to what SQLite returns; convert what PostgreSQL returns to UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _choice(literal: Any, name: str) -> Enum:
    return Enum(*get_args(literal), name=name, native_enum=False, create_constraint=True, length=16)


class Base(DeclarativeBase):
    """Base of the chat models; its metadata names constraints by NAMING."""

    metadata = MetaData(naming_convention=NAMING)


class Workspace(Base):
    """A business using Parley: its members, contacts and conversations."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    notify_by_email: Mapped[bool] = mapped_column(default=False)
    notify_after_minutes: Mapped[int] = mapped_column(default=10)


class Member(Base):
    """A person of the workspace who answers conversations."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_choice(Role, "role"))
    permissions: Mapped[list[str]] = mapped_column(MutableList.as_mutable(JSON_LIST), default=list)
    show_visitor_tags: Mapped[bool] = mapped_column(default=True)
    prefer_remark_name: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str | None] = mapped_column(String(10))  # the console's; None: the browser's
    password_hash: Mapped[str | None] = mapped_column(String(200))  # Argon2id; None: not set yet
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def can(self, permission: str) -> bool:
        """Whether the member holds `permission`, listed or through the role."""
        return holds(self.role, self.permissions, permission)


class ApiToken(Base):
    """A member's API token; only its SHA-256 is kept, and its prefix to tell tokens apart."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ID, ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class _MemberToken:
    """A random token given to a member, kept as its SHA-256, valid until `expires_at`."""

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ID, ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConsoleSession(_MemberToken, Base):
    """A member signed in to the console; the cookie holds the token."""

    __tablename__ = "console_sessions"


class PasswordLink(_MemberToken, Base):
    """A one-time link through which a member sets their password (first start, invitation)."""

    __tablename__ = "password_links"


class Contact(Base):
    """A person who writes to the workspace, over one or more channels."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_workspace_id_remark_name", "workspace_id", "remark_name"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(200))  # as the channel gives it
    remark_name: Mapped[str | None] = mapped_column(String(100))  # as the agents call them
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164: "+" and at most 15 digits
    email: Mapped[str | None] = mapped_column(String(320))
    tags: Mapped[list[str]] = mapped_column(MutableList.as_mutable(JSON_LIST), default=list)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # the number of the contact's last event told to the engine (`chat.news.tell`)
    event_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", passive_deletes=True
    )

    def display_name(self, prefer_remark: bool) -> str:
        """The name to show an agent: the remark name first if they prefer it and one is set."""
        if prefer_remark and self.remark_name:
            return self.remark_name
        return self.name or self.remark_name or f"Contact {self.id}"


class ChannelIdentity(Base):
    """Who a contact is on one channel: a Messenger PSID on a Page, or a widget visitor token."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "account", "external_id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ID, ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(_choice(Channel, "channel"))
    account: Mapped[str] = mapped_column(String(64))  # the Page id, or "widget"
    external_id: Mapped[str] = mapped_column(String(255))

    contact: Mapped[Contact] = relationship(back_populates="identities")


class Conversation(Base):
    """A conversation with a contact on one channel, with figures kept current per message."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index(
            "ix_conversations_workspace_status_activity",
            "workspace_id",
            "status",
            "last_activity_at",
        ),
        Index("ix_conversations_workspace_assignee", "workspace_id", "assignee_id"),
        Index("ix_conversations_workspace_received", "workspace_id", "received_at"),
        # The conversation list's order when no status is chosen (migration 0002).
        Index("ix_conversations_workspace_activity", "workspace_id", "last_activity_at", "id"),
        # One ongoing conversation per contact on a Page, even when two workers take two of
        # the visitor's messages at once (migration 0003); widget conversations have no Page.
        Index(
            "uq_conversations_ongoing_on_page",
            "contact_id",
            "channel",
            "account",
            unique=True,
            sqlite_where=text("status = 'ongoing'"),
            postgresql_where=text("status = 'ongoing'"),
        ),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ID, ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(_choice(Channel, "channel"))
    account: Mapped[str | None] = mapped_column(String(64))  # the Messenger Page id
    status: Mapped[Status] = mapped_column(_choice(Status, "status"), default="ongoing")
    assignee_id: Mapped[int | None] = mapped_column(
        ID, ForeignKey("members.id", ondelete="SET NULL")
    )
    hosting: Mapped[bool] = mapped_column(default=True)  # the bot answers, not a person
    is_new_visitor: Mapped[bool] = mapped_column()  # the channel adapter knows; no default
    tags: Mapped[list[str]] = mapped_column(MutableList.as_mutable(JSON_LIST), default=list)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    message_count: Mapped[int] = mapped_column(default=0)
    visitor_message_count: Mapped[int] = mapped_column(default=0)
    agent_message_count: Mapped[int] = mapped_column(default=0)
    first_visitor_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_visitor_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_response_seconds: Mapped[int | None] = mapped_column()
    waiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime)

    contact: Mapped[Contact] = relationship()
    workspace: Mapped[Workspace] = relationship()

    @property
    def state(self) -> ConversationState:
        """ "hosted" while the bot answers, else "assigned" or "unassigned" by its assignee."""
        if self.hosting:
            return "hosted"
        return "unassigned" if self.assignee_id is None else "assigned"


class Message(Base):
    """One message of a conversation, from the visitor, an agent, a flow's bot or the system."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id"),
        UniqueConstraint("conversation_id", "client_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # The Messenger sender's queue: messages waiting to go out, by their earliest time.
        Index("ix_messages_delivery_send_after", "delivery", "send_after"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ID, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    sender: Mapped[Sender] = mapped_column(_choice(Sender, "sender"))
    member_id: Mapped[int | None] = mapped_column(ID, ForeignKey("members.id", ondelete="SET NULL"))
    flow_id: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON_LIST, default=list)
    off_platform: Mapped[bool] = mapped_column(default=False)  # sent outside Parley
    channel: Mapped[Channel] = mapped_column(_choice(Channel, "channel"))
    channel_message_id: Mapped[str | None] = mapped_column(String(255))
    # The id the message's client chose for it (the widget, an agent's reply), so that a
    # retried call stores it once.
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Outgoing messages on a channel that Parley sends itself (Messenger): where they stand.
    delivery: Mapped[Delivery | None] = mapped_column(_choice(Delivery, "delivery"))
    delivery_error: Mapped[str | None] = mapped_column(String(500))  # "<reason>: <detail>"
    message_tag: Mapped[str | None] = mapped_column(String(40))  # the Messenger tag sent with it
    send_after: Mapped[datetime | None] = mapped_column(UtcDateTime)  # a retry's earliest time
    send_attempts: Mapped[int] = mapped_column(default=0)


class ExecutedCommand(Base):
    """An engine command already acted on, so that one delivered twice acts once."""

    __tablename__ = "executed_commands"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    executed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MessengerPage(Base):
    """A Facebook Page connected to a workspace; its token is never shown through the API."""

    __tablename__ = "messenger_pages"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    page_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    access_token: Mapped[str] = mapped_column(Sealed)  # encrypted at rest (chat.secrets)
    connected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MessengerSync(Base):
    """A background import of a Page's conversations, resumable from its cursor."""

    __tablename__ = "messenger_syncs"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    page_id: Mapped[int] = mapped_column(
        ID, ForeignKey("messenger_pages.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[SyncScope] = mapped_column(_choice(SyncScope, "scope"))
    status: Mapped[SyncStatus] = mapped_column(_choice(SyncStatus, "status"))
    cursor: Mapped[str | None] = mapped_column(Text)  # where the next page starts
    pages_fetched: Mapped[int] = mapped_column(default=0)
    contacts_imported: Mapped[int] = mapped_column(default=0)
    messages_imported: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[str]] = mapped_column(MutableList.as_mutable(JSON_LIST), default=list)
    failures: Mapped[int] = mapped_column(default=0, server_default="0")  # in a row, for backoff
    next_request_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)  # a worker holds it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Notification(Base):
    """An email telling a member that a visitor's message has waited too long for a reply.

    One row per recipient and waiting streak, sent by the workers: `pending` until due, then
    `sent`, or `failed` after its retries, or `cancelled` when the workspace switched
    notifications off before it went out.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_send_after", "status", "send_after"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ID, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(ID, ForeignKey("members.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(320))
    waiting_since: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[NotificationStatus] = mapped_column(_choice(NotificationStatus, "status"))
    attempts: Mapped[int] = mapped_column(default=0)
    send_after: Mapped[datetime] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OutboxEvent(Base):
    """An engine event stored in the transaction of the fact it tells, until it is published.

    A request publishes its events right after its commit and deletes them; the workers
    publish what is left (Redis was away, or the process died in between). Events carry
    their own ids, so one published twice is recognised by the engine.
    """

    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    event: Mapped[str] = mapped_column(Text)  # the event's JSON
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Why the relay could not read it as an event: it stays here, set aside, for an operator.
    error: Mapped[str | None] = mapped_column(Text)
