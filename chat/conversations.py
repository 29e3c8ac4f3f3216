"""Conversations: recording their messages and keeping their figures current.

The figures live on the conversation row, updated in the same transaction as the message they
count, so lists and reports read them without counting messages. The row is locked while a
message is recorded (SELECT ... FOR UPDATE on PostgreSQL; SQLite has one writer at a time), so
two workers recording messages of one conversation neither lose a count nor store a duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.errors import Invalid
from chat.models import Channel, Contact, Conversation, Message, Sender

# Channels whose messages Parley sends out itself (the widget's visitors fetch theirs): an
# agent's or a flow's message there is recorded `pending` for the channel's sender.
SENT_BY_PARLEY: frozenset[Channel] = frozenset({"messenger"})
CLIENT_ID = re.compile("[A-Za-z0-9_-]{1,64}")  # as the API's bodies have it


class Recorded(NamedTuple):
    """The message recorded, and whether it is new (False: the channel delivered it again)."""

    message: Message
    created: bool


def open_conversation(
    session: Session, contact: Contact, channel: Channel, at: datetime, account: str | None = None
) -> tuple[Conversation, bool]:
    """The contact's ongoing conversation on `channel` (and Page `account`), or a new one.

    The second value says whether the conversation was started now. A contact is a new
    visitor in their first conversation and a returning one after that.
    """
    ongoing = session.scalars(
        select(Conversation).where(
            Conversation.contact_id == contact.id,
            Conversation.channel == channel,
            Conversation.account == account,
            Conversation.status == "ongoing",
        )
    ).first()
    if ongoing is not None:
        return ongoing, False
    earlier = session.scalars(select(Conversation.id).where(Conversation.contact_id == contact.id))
    conversation = Conversation(
        workspace_id=contact.workspace_id,
        contact=contact,
        channel=channel,
        account=account,
        is_new_visitor=earlier.first() is None,
        received_at=at,
        last_activity_at=at,
    )
    session.add(conversation)
    session.flush()
    return conversation, True


def record_message(
    session: Session,
    conversation: Conversation,
    *,
    sender: Sender,
    text: str,
    at: datetime,
    member_id: int | None = None,
    flow_id: str | None = None,
    off_platform: bool = False,
    channel_message_id: str | None = None,
    client_id: str | None = None,
    attachments: Sequence[Mapping[str, Any]] = (),
    history: bool = False,
) -> Recorded:
    """Store a message of `conversation` sent at `at` and update the conversation's figures.

    `history` marks an older message imported into a conversation already under way (a
    Messenger contact sync): it is counted, but does not end or start anyone's wait, nor
    make a first response time.

    A message whose `channel_message_id` is already stored on the conversation's channel, or
    whose `client_id` (the id its client chose, to retry a call whose answer it never got) is
    already stored in the conversation, is not stored again: the stored one comes back with
    `created=False` and no figure moves.

    Figures: every message counts in `message_count`. Human agents' messages count in
    `agent_message_count`, whether sent in Parley or outside it (`off_platform`, such as a
    reply from the Page inbox); bot and system messages count in neither visitor nor agent
    figures. `first_response_seconds` runs from the first visitor message to the first human
    agent reply after it, and an off-platform reply counts: the visitor got their answer, which
    is what the figure measures. Bot messages never count as a response. `waiting_since` is set
    by a visitor message unless already set and cleared by any human agent reply; bot messages
    leave it. `last_activity_at` (and the contact's `last_seen_at`, for visitor messages) never
    moves back when messages arrive out of order.
    """
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: give `at` a timezone (UTC)")
    _lock(session, conversation)
    existing = None
    if channel_message_id is not None:
        existing = _find(session, conversation.channel, channel_message_id)
    if existing is None and client_id is not None:
        existing = sent_before(session, conversation, client_id)
    if existing is not None:
        return Recorded(existing, created=False)
    message = Message(
        conversation_id=conversation.id,
        sender=sender,
        member_id=member_id,
        flow_id=flow_id,
        text=text,
        attachments=[dict(attachment) for attachment in attachments],
        off_platform=off_platform,
        channel=conversation.channel,
        channel_message_id=channel_message_id,
        client_id=client_id,
        created_at=at,
        delivery="pending"
        if _to_send(conversation, sender, off_platform, channel_message_id)
        else None,
    )
    session.add(message)
    _count(conversation, sender, at, history)
    session.flush()
    return Recorded(message, created=True)


def _to_send(
    conversation: Conversation, sender: Sender, off_platform: bool, channel_message_id: str | None
) -> bool:
    outgoing = sender in ("agent", "bot") and not off_platform and channel_message_id is None
    return outgoing and conversation.channel in SENT_BY_PARLEY


def _lock(session: Session, conversation: Conversation) -> None:
    # Flush first: refreshing would otherwise drop the caller's unsaved changes to the row.
    session.flush()
    session.refresh(conversation, with_for_update=True)


def sent_before(session: Session, conversation: Conversation, client_id: str) -> Message | None:
    """The message of `conversation` its client sent with `client_id`, if there is one;
    `Invalid` for an id that is not 1 to 64 letters, digits, - or _."""
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise Invalid("client_id", "a client_id is 1 to 64 letters, digits, - or _")
    query = select(Message).where(
        Message.conversation_id == conversation.id, Message.client_id == client_id
    )
    return session.scalars(query).one_or_none()


def _find(session: Session, channel: Channel, channel_message_id: str) -> Message | None:
    query = select(Message).where(
        Message.channel == channel, Message.channel_message_id == channel_message_id
    )
    return session.scalars(query).one_or_none()


def _count(conversation: Conversation, sender: Sender, at: datetime, history: bool) -> None:
    conversation.message_count += 1
    conversation.last_activity_at = max(conversation.last_activity_at, at)
    if sender == "visitor":
        _visitor_wrote(conversation, at, history)
    elif sender == "agent":
        _agent_replied(conversation, at, history)


def _visitor_wrote(conversation: Conversation, at: datetime, history: bool) -> None:
    conversation.visitor_message_count += 1
    contact = conversation.contact  # the contact was last seen when they last wrote
    contact.last_seen_at = max(contact.last_seen_at, at)
    if conversation.first_visitor_message_at is None:
        conversation.first_visitor_message_at = at
    if conversation.waiting_since is None and not history:
        conversation.waiting_since = at
    last = conversation.last_visitor_message_at
    conversation.last_visitor_message_at = at if last is None else max(last, at)


def _agent_replied(conversation: Conversation, at: datetime, history: bool) -> None:
    conversation.agent_message_count += 1
    if history:
        return
    conversation.waiting_since = None
    first = conversation.first_visitor_message_at
    if conversation.first_response_seconds is None and first is not None:
        # Clocks of different channels may disagree by a little: never a negative time.
        conversation.first_response_seconds = max(0, int((at - first).total_seconds()))
