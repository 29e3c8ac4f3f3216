"""Who is who, as the console lists them: contacts with their channels and latest conversation,
and the workspace's members.

A contact's row is shown the caller's way, as `chat.inbox` shows conversations: the display
name follows `prefer_remark_name` and the tags are there only if they `show_visitor_tags`.
The latest conversation is the latest one the caller sees (`visible_conversations`), so an
agent limited to their own conversations never gets a link to someone else's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.models import ChannelIdentity, Contact, Conversation, Member
from chat.permissions import visible_conversations


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One contact as the contact list shows it to one member."""

    id: int
    display_name: str
    remark_name: str | None
    phone: str | None
    email: str | None
    channels: list[str]  # the channels the contact writes on, sorted
    tags: list[str] | None  # None: the member chose not to see visitor tags
    last_seen_at: datetime
    latest_conversation_id: int | None  # the latest the member sees; None if none


def contact_rows(session: Session, member: Member, contacts: Sequence[Contact]) -> list[ContactRow]:
    """The rows of `contacts` for `member`, in the same order, by two queries for them all."""
    ids = [contact.id for contact in contacts]
    channels = _channels(session, ids)
    latest = _latest_conversations(session, member, ids)
    return [
        ContactRow(
            id=contact.id,
            display_name=contact.display_name(member.prefer_remark_name),
            remark_name=contact.remark_name,
            phone=contact.phone,
            email=contact.email,
            channels=channels.get(contact.id, []),
            tags=list(contact.tags) if member.show_visitor_tags else None,
            last_seen_at=contact.last_seen_at,
            latest_conversation_id=latest.get(contact.id),
        )
        for contact in contacts
    ]


def workspace_members(session: Session, member: Member) -> list[Member]:
    """The members of `member`'s workspace, by name."""
    query = select(Member).where(Member.workspace_id == member.workspace_id)
    return list(session.scalars(query.order_by(Member.name, Member.id)))


def _channels(session: Session, contact_ids: list[int]) -> dict[int, list[str]]:
    query = (
        select(ChannelIdentity.contact_id, ChannelIdentity.channel)
        .where(ChannelIdentity.contact_id.in_(contact_ids))
        .distinct()
        .order_by(ChannelIdentity.contact_id, ChannelIdentity.channel)
    )
    found: dict[int, list[str]] = {}
    for contact_id, channel in session.execute(query):
        found.setdefault(contact_id, []).append(channel)
    return found


def _latest_conversations(
    session: Session, member: Member, contact_ids: list[int]
) -> dict[int, int]:
    # Ids grow with time, so the highest id the member sees is their latest conversation.
    query = (
        select(Conversation.contact_id, func.max(Conversation.id).label("latest"))
        .where(Conversation.contact_id.in_(contact_ids), visible_conversations(member))
        .group_by(Conversation.contact_id)
    )
    return {row.contact_id: row.latest for row in session.execute(query)}
